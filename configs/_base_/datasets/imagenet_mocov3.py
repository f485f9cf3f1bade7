# ImageNet-1k in the class-folder layout, MoCo v3's two views (BYOL's
# augmentations = DINO's two global views: view 1 always blurred, view 2 blurred
# with p=0.1 and solarized with p=0.2), crops of scale (0.08, 1), no multi-crop.
# Override the path with --cfg-options train_dataloader.dataset.data_root=DIR
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop', global_crops_size=224, global_crops_scale=(0.08, 1.0),
         local_crops_number=0),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,  # per GPU: 8 GPUs x 128 = 1024 (MoCo v3's ViT-S batch)
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,  # equal key counts on every process (all_gather)
    dataset=dict(type='ImageFolder', data_root='data/imagenet/train', with_label=False,
                 pipeline=train_pipeline))
