# The embedded default data: scikit-learn's handwritten digits, written once as
# a 32x32 image folder under $HSSL_DATA_ROOT (default ~/.cache/hssl/data).
# No download. DINO multi-crop views: 2 x 32 px globals + 4 x 16 px locals.
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=32, local_crops_size=16,
         global_crops_scale=(0.4, 1.0), local_crops_scale=(0.1, 0.4),
         local_crops_number=4),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(type='EmbeddedDigits', split='train', pipeline=train_pipeline))

# Labelled splits for k-NN evaluation (tools/knn_eval.py).
knn_pipeline = [
    dict(type='LoadImage'),
    dict(type='PackInputs'),
]
knn_train_dataset = dict(type='EmbeddedDigits', split='train', pipeline=knn_pipeline)
knn_test_dataset = dict(type='EmbeddedDigits', split='test', pipeline=knn_pipeline)
