# iBOT baseline: ViT-B/16, 100 epochs, ImageNet-1k, 8 GPUs x 32 = batch 256, with
# iBOT's ViT-B/16 settings (bytedance/ibot README command) and the HSSL paper's
# (Tab. XX): lr 7.5e-4 x batch / 256, min lr 2e-6, clip 0.3, weight-normalised last
# layer frozen for 3 epochs, global crops (0.32, 1), local crops (0.05, 0.32),
# teacher temperature warm-up over 50 epochs.
_base_ = './ibot_vits16_100e_in1k.py'
model = dict(network=dict(backbone=dict(arch='base'), projector=dict(norm_last_layer=True)))
# Tab. XX's ViT-B/16 crop scales; the rest of the pipeline is inherited (pipeline[1]: DINOMultiCrop)
train_dataloader = _base_.train_dataloader
train_dataloader.dataset.pipeline[1].update(global_crops_scale=(0.32, 1.0),
                                            local_crops_scale=(0.05, 0.32))
optim_wrapper = dict(optimizer=dict(lr=7.5e-4), clip_grad=dict(max_norm=0.3))
param_scheduler = [
    dict(type='WarmupCosineLR', eta_min=2e-6, warmup=10, by_epoch=True, begin=0, end=100,
         convert_to_iter_based=True),
    dict(type='WarmupCosineParamScheduler', param_name='weight_decay', eta_min_ratio=10.0,
         by_epoch=True, begin=0, end=100, convert_to_iter_based=True),
]
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.996, end_momentum=1.0),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.07, warmup_epochs=50,
         patch_start_epoch=0),
    dict(type='FreezeLastLayerHook', epochs=3),
    dict(type='MaskStartHook', start_epoch=0),
]
