# The embedded default data: scikit-learn's handwritten digits, written once as
# a 32x32 image folder under $HSSL_DATA_ROOT (default ~/.cache/hssl/data).
# No download. Multi-crop views: 2 x 32 px globals + 4 x 16 px locals.
# Augmentations are DINO's minus what does not suit 32 px digits: no flip
# (digits are not mirror-symmetric), no blur and no solarisation (both erase
# thin white strokes on black at this size), no hue (grey images).


def _view(size, scale):
    return [
        dict(type='RandomResizedCrop', scale=size, crop_ratio_range=scale,
             backend='pillow', interpolation='bicubic'),
        dict(type='RandomApply', prob=0.8,
             transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)]),
    ]


train_pipeline = [
    dict(type='LoadImage'),
    dict(type='MultiCrop', groups=[
        dict(num=2, pipeline=_view(32, (0.4, 1.0))),
        dict(num=4, pipeline=_view(16, (0.1, 0.4))),
    ]),
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
