# Tab. I: DINO + HSSL on ViT-S/16 with a depth-3 ResNet (bottleneck) auxiliary head (first shortcut removed).
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ResNetHead', depth=3, first_shortcut=False, block='bottleneck')))
