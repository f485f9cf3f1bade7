# MoCo v3's ViT schedule: AdamW, lr 1.5e-4 x batch / 256, weight decay 0.1 on
# every parameter, linear warm-up then cosine decay to 0, momentum encoder
# momentum cosine 0.99 -> 1 (per step). 100 epochs (HSSL Tab. VI b); MoCo v3's
# 300-epoch ViT-S run warms up for 40 epochs, this 100-epoch one for 10.
max_epochs = 100
warmup_epochs = 10
base_lr = 1.5e-4  # for a total batch of 256 (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',  # the momentum encoder is not optimised
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.1))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256, enable=False)

# mmengine's EMA weight of the new value is 1 - momentum; the hook handles it.
custom_hooks = [dict(type='EMATeacherHook', momentum=0.99, end_momentum=1.0)]
