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
# min lr 2e-6, teacher temperature warm-up 50 epochs, last layer frozen 3 epochs
param_scheduler = _base_.param_scheduler
param_scheduler[0].eta_min = 2e-6
custom_hooks = _base_.custom_hooks
custom_hooks[1].warmup_epochs = 50  # TeacherTempHook
custom_hooks[2].epochs = 3  # FreezeLastLayerHook
