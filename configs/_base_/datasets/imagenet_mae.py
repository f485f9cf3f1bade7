# ImageNet-1k in the class-folder layout, MAE's single view: random resized
# crop of scale (0.2, 1) (bicubic) and a horizontal flip.
# Override the path with --cfg-options train_dataloader.dataset.data_root=DIR
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,  # per GPU: 8 GPUs x 256 = 2048 per step
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(type='ImageFolder', data_root='data/imagenet/train', with_label=False,
                 pipeline=train_pipeline))
