# A tiny DINO + HSSL config on 32 embedded digits: seconds per epoch on a CPU.
_base_ = '../../configs/hssl/dino_vitmini8_convnext_12e_digits.py'
model = dict(network=dict(
    backbone=dict(arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)),
    projector=dict(out_channels=64, hidden_channels=32, bottleneck_channels=16),
    auxiliary=dict(depth=2)), loss=dict(out_channels=64))
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(indices=32, pipeline=[
        dict(type='LoadImage'),
        dict(type='DINOMultiCrop', global_crops_size=32, local_crops_size=16,
             global_crops_scale=(0.4, 1.0), local_crops_scale=(0.1, 0.4), local_crops_number=2),
        dict(type='PackInputs')]))
max_epochs = 2
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=5))
