# DINO baseline: ViT-S/16, 100 epochs, ImageNet-1k, 8 GPUs x 32 = batch 256.
_base_ = [
    '../_base_/models/dino_vits16.py',
    '../_base_/datasets/imagenet_dino.py',
    '../_base_/schedules/dino_100e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=32)
