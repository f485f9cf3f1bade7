# Linear probing of a pre-trained ViT-S/16 on ImageNet-1k (DINO's protocol,
# which iBOT and the HSSL paper follow; it is not in Tab. XXI): frozen
# backbone, a linear layer on the normalised cls token of the last block,
# SGD (momentum 0.9, no weight decay), lr 0.001 x batch / 256, cosine over 100
# epochs, batch 1024 (8 GPUs x 128), random-resized crop + flip.
# (DINO's ViT-S/16 run also concatenates the cls tokens of the last 4 blocks;
# this config uses the last one, as for ViT-B.)
#
# The backbone comes from tools/model_converters/convert.py CKPT OUT --to mmpretrain:
#   tools/dist_train.sh configs/benchmarks/linear_vits16_100e_in1k.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=OUT
_base_ = '../_base_/default_runtime.py'

num_classes = 1000
pretrained = 'PRETRAINED_BACKBONE.pth'  # set with --cfg-options model.backbone.init_cfg.checkpoint=...
model = dict(
    type='ImageClassifier',  # mmpretrain's
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=num_classes,
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           to_rgb=True),
    backbone=dict(
        # mmpretrain's 'deit-small' is ViT-S (384 wide, 12 blocks, 6 heads, hssl's 'small');
        # its 'small' is another, 768-wide network
        type='VisionTransformer', arch='deit-small', img_size=224, patch_size=16,
        out_type='cls_token', final_norm=True,
        frozen_stages=12,  # all blocks, patch embedding, cls token, position embedding, final norm
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=None,
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=384,
              loss=dict(type='CrossEntropyLoss'),
              init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))

data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=10, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root + '/train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=10, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root + '/val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

max_epochs = 100
batch_size = 1024  # in all
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001 * batch_size / 256, momentum=0.9, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True,
                        convert_to_iter_based=True)]
auto_scale_lr = dict(base_batch_size=batch_size)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_best='accuracy/top1', rule='greater'))
