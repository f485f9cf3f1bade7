# ImageNet-1k in the class-folder layout, DINO multi-crop views with DINO's
# main_dino.py defaults: global crops (0.4, 1), 8 local crops (0.05, 0.4).
# data/imagenet/train/<class>/<image>; override the path with
#   --cfg-options train_dataloader.dataset.data_root=/path/to/train
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.4, 1.0), local_crops_scale=(0.05, 0.4),
         local_crops_number=8),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,  # per GPU: 8 GPUs x 64 = 512, DINO's ViT-S/16 100-epoch run
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(type='ImageFolder', data_root='data/imagenet/train', with_label=False,
                 pipeline=train_pipeline))
