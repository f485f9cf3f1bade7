# Tab. I: DINO + HSSL on ViT-S/16 with a depth-3 PoolFormer auxiliary head (first shortcut removed).
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='PoolFormerHead', depth=3, first_shortcut=False)))
