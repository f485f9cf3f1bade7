# MoCo v3 baseline: ViT-S/16, 100 epochs, two views (no multi-crop), ImageNet-1k,
# 8 GPUs x 128 = batch 1024, lr 1.5e-4 x 1024 / 256 (scaled to the real total batch).
_base_ = [
    '../_base_/models/mocov3_vits16.py',
    '../_base_/datasets/imagenet_mocov3.py',
    '../_base_/schedules/mocov3_100e.py',
    '../_base_/default_runtime.py',
]
