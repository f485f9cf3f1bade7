# iBOT baseline: ViT-S/16, 100 epochs, ImageNet-1k, 8 GPUs x 32 = batch 256.
_base_ = [
    '../_base_/models/ibot_vits16.py',
    '../_base_/datasets/imagenet_ibot.py',
    '../_base_/schedules/ibot_100e.py',
    '../_base_/default_runtime.py',
]
