# Tab. I: DINO + HSSL on ViT-S/16 with a depth-3 ConvNeXt auxiliary head (first shortcut removed);
# the same model as configs/hssl/dino_vits_convnext.py, kept here so the ablation set is complete.
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
