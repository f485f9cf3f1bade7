# DINO's schedule (facebookresearch/dino main_dino.py defaults): AdamW, lr 5e-4 x
# total batch / 256 (auto_scale_lr, always on as in DINO) warmed up from 0 over 10
# epochs, cosine to 1e-6 (utils.cosine_scheduler, per iteration), weight decay
# cosine 0.04 -> 0.4 (no decay on biases and 1-D parameters), per-tensor gradient
# clipping at 3.0 (utils.clip_gradients), teacher momentum cosine 0.996 -> 1,
# teacher temperature 0.04, last layer frozen for the first epoch.
max_epochs = 100
warmup_epochs = 10
base_lr = 5e-4  # per 256 images; scaled by the total batch (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',  # the EMA teacher is not optimised
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(type='per_tensor', max_norm=3.0),
    # DINO regularises no bias and no 1-D parameter (norms)
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0, norm_decay_mult=0.0))

param_scheduler = [
    dict(type='WarmupCosineLR', eta_min=1e-6, warmup=warmup_epochs, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
    # eta_min_ratio keeps groups without weight decay at 0.
    dict(type='WarmupCosineParamScheduler', param_name='weight_decay', eta_min_ratio=10.0,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr = base_lr x (GPUs x batch per GPU) / 256, whatever the number of GPUs
auto_scale_lr = dict(base_batch_size=256, enable=True)

custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.996, end_momentum=1.0),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.04, warmup_epochs=0),
    dict(type='FreezeLastLayerHook', epochs=1),
]
