# iBOT's ViT-S schedule: AdamW, lr 5e-4 x batch / 256 (10 warm-up epochs, cosine
# to 2e-6), weight decay cosine 0.04 -> 0.4, clip 3.0, teacher momentum cosine
# 0.996 -> 1, teacher temperature 0.04 -> 0.07 over 30 epochs (cls and patch),
# last layer frozen for the first 3 epochs (freeze_last_layer 3).
max_epochs = 100
warmup_epochs = 10
base_lr = 5e-4  # for a total batch of 256 (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(max_norm=3.0),
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0, norm_decay_mult=0.0))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=2e-6, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.0,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256, enable=False)

custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.996, end_momentum=1.0),
    # sets teacher_temp of both the cls (DINOLoss) and patch (MaskedPatchLoss) criteria
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.07, warmup_epochs=30),
    dict(type='FreezeLastLayerHook', epochs=3),
]
