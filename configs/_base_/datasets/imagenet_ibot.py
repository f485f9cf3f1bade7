# ImageNet-1k in the class-folder layout (data/imagenet/train/<class>/<image>),
# iBOT multi-crop views: DINO's augmentations plus a block mask per global view.
# Override the path with --cfg-options train_dataloader.dataset.data_root=DIR
patch_size = 16
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.25, 1.0), local_crops_scale=(0.05, 0.25),
         local_crops_number=10,
         global_extra_pipeline=[
             dict(type='BlockMaskGenerator', patch_size=patch_size,
                  pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2), pred_shape='block')]),
    dict(type='PackInputs', algorithm_keys=['patch_mask']),
]
train_dataloader = dict(
    batch_size=32,  # per GPU: 8 GPUs x 32 = 256
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(type='ImageFolder', data_root='data/imagenet/train', with_label=False,
                 pipeline=train_pipeline))

# k-NN evaluation on the labelled folders (tools/knn_eval.py): resize 256, centre crop 224.
knn_pipeline = [
    dict(type='LoadImage'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
knn_train_dataset = dict(type='ImageFolder', data_root='data/imagenet/train', pipeline=knn_pipeline)
knn_test_dataset = dict(type='ImageFolder', data_root='data/imagenet/val', pipeline=knn_pipeline)
