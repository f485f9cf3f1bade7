# MoCo v3's ViT schedule (facebookresearch/moco-v3 main_moco.py, CONFIG.md): AdamW,
# lr 1.5e-4 x total batch / 256 (auto_scale_lr, always on as in main_moco.py), linear
# warm-up from 0 (lr x epoch / warmup_epochs, per iteration) then cosine decay to 0,
# weight decay 0.1 on every parameter, no gradient clipping, momentum encoder
# momentum cosine 0.99 -> 1 (per step). 100 epochs (HSSL Tab. VI b); MoCo v3's
# 300-epoch ViT-S run warms up for 40 epochs, this 100-epoch one for 10.
max_epochs = 100
warmup_epochs = 10
base_lr = 1.5e-4  # per 256 images; scaled by the total batch (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',  # the momentum encoder is not optimised
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.1))

param_scheduler = [
    # adjust_learning_rate: lr x t / W in the warm-up (W iterations), not np.linspace
    dict(type='WarmupCosineLR', eta_min=0.0, warmup=warmup_epochs, warmup_linspace=False,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr = base_lr x (GPUs x batch per GPU x accumulation) / 256, whatever the GPU count
auto_scale_lr = dict(base_batch_size=256, enable=True)

# mmengine's EMA weight of the new value is 1 - momentum; the hook handles it.
custom_hooks = [dict(type='EMATeacherHook', momentum=0.99, end_momentum=1.0)]
