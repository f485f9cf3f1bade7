# MAE baseline: ViT-S/16, 400 epochs, ImageNet-1k, MAE's effective batch 4096 =
# 8 GPUs x 256 x 2 accumulated steps, lr 1.5e-4 x 4096 / 256 (the lr follows the
# real effective batch: GPUs x batch per GPU x accumulation, as main_pretrain.py).
_base_ = [
    '../_base_/models/mae_vits16.py',
    '../_base_/datasets/imagenet_mae.py',
    '../_base_/schedules/mae_400e.py',
    '../_base_/default_runtime.py',
]
optim_wrapper = dict(accumulative_counts=2)
