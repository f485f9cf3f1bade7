# DINO baseline on the embedded digits: a small ViT on 32 px images, trained on
# the CPU in minutes. The quickstart's HSSL config inherits this one.
_base_ = [
    '../_base_/models/dino_vits16.py',
    '../_base_/datasets/digits_dino.py',
    '../_base_/schedules/dino_100e.py',
    '../_base_/default_runtime.py',
]
out_channels = 1024
model = dict(
    data_preprocessor=dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]),
    network=dict(
        # patch 8: a 4x4 grid for the 32 px globals, 2x2 for the 16 px locals
        backbone=dict(
            arch=dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4,
                      feedforward_channels=512),
            img_size=32, patch_size=8, drop_path_rate=0.0),
        # DINO's use_bn_in_head: without it the nearly identical digit images give
        # nearly identical projections at initialisation and DINO collapses to the
        # uniform output within the first epoch (measured: loss = ln K, k-NN below
        # random init). On several GPUs add `sync_bn = 'torch'` to the config.
        projector=dict(out_channels=out_channels, hidden_channels=512, bottleneck_channels=128,
                       use_bn=True)),
    loss=dict(out_channels=out_channels))

max_epochs = 12
base_lr = 5e-4
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(type='WarmupCosineLR', eta_min=1e-5, warmup=1, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
    dict(type='WarmupCosineParamScheduler', param_name='weight_decay', eta_min_ratio=10.0,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.99, end_momentum=1.0),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.04, warmup_epochs=0),
    dict(type='FreezeLastLayerHook', epochs=1),
]
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=4, max_keep_ckpts=2))
