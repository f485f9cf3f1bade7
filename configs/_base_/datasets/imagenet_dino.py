# ImageNet-1k in the class-folder layout, DINO multi-crop views.
# data/imagenet/train/<class>/<image>; override the path with
#   --cfg-options train_dataloader.dataset.data_root=/path/to/train
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.25, 1.0), local_crops_scale=(0.05, 0.25),
         local_crops_number=10),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,  # per GPU
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(type='ImageFolder', data_root='data/imagenet/train', with_label=False,
                 pipeline=train_pipeline))
