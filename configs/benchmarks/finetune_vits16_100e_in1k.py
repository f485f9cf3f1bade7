# Full fine-tuning of a pre-trained ViT-S/16 on ImageNet-1k, HSSL paper Tab. XXI
# (iBOT + HSSL column): AdamW, 100 epochs, 5 warm-up epochs, base lr 5e-4 per
# 256 images (the BEiT / iBOT scaling rule: 2e-3 at the batch of 1024),
# batch 1024 (8 GPUs x 128), drop path 0.1, layer-wise lr decay 0.65 (through
# mmpretrain's LearningRateDecayOptimWrapperConstructor). Not in Tab. XXI,
# taken from the BEiT / iBOT fine-tuning recipe that the paper follows:
# weight decay 0.05 (none on norms, biases, cls token, position embedding),
# RandAugment (9, 0.5), random erasing 0.25, Mixup 0.8, CutMix 1.0, label
# smoothing 0.1, cosine to 1e-6. The classifier reads the normalised cls token.
#
# The backbone comes from tools/model_converters/convert.py CKPT OUT --to mmpretrain:
#   tools/dist_train.sh configs/benchmarks/finetune_vits16_100e_in1k.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=OUT
_base_ = './linear_vits16_100e_in1k.py'

model = dict(
    backbone=dict(frozen_stages=-1, drop_path_rate=0.1),
    head=dict(loss=dict(_delete_=True, type='LabelSmoothLoss', label_smooth_val=0.1,
                        mode='original'),
              init_cfg=dict(_delete_=True, type='TruncNormal', layer='Linear', std=2e-5)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))

img_size = 224
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675],
         fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

max_epochs = 100
warmup_epochs = 5
batch_size = 1024
base_lr = 5e-4  # Tab. XXI, per 256 images
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr * batch_size / 256, weight_decay=0.05,
                   betas=(0.9, 0.999)),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65,  # Tab. XXI
        custom_keys={
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1))
