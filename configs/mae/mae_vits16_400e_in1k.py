# MAE baseline: ViT-S/16, 400 epochs, ImageNet-1k, 8 GPUs x 256 = batch 2048
# (add --auto-scale-lr for lr 1.5e-4 x 2048 / 256; MAE used batch 4096).
_base_ = [
    '../_base_/models/mae_vits16.py',
    '../_base_/datasets/imagenet_mae.py',
    '../_base_/schedules/mae_400e.py',
    '../_base_/default_runtime.py',
]
