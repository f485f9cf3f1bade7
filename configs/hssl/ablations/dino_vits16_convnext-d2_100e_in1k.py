# Fig. 5: ConvNeXt auxiliary head of depth 2 (first shortcut removed) on ViT-S/16.
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=2, first_shortcut=False)))
