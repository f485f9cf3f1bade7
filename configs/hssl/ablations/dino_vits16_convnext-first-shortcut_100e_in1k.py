# Tab. IV ("preservation"): the depth-3 ConvNeXt head with its first shortcut KEPT, so the head
# outputs z + F1(z) + ...; compare with ../dino_vits16_convnext_100e_in1k.py (removed, the
# paper's default).
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=True)))
