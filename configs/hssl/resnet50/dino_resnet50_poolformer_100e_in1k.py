# Tab. I (right half): DINO + HSSL on ResNet-50 with a depth-3 PoolFormer auxiliary head (first
# shortcut removed). The head works at 512 channels: a 1x1 conv maps ResNet-50's 2048-channel
# 7x7 grid to 512 first (WidthAdaptedHead, docs/user_guides/auxiliary_heads.md).
_base_ = '../../dino/dino_resnet50_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(
    type='WidthAdaptedHead', width=512,
    head=dict(type='PoolFormerHead', depth=3, first_shortcut=False))))
