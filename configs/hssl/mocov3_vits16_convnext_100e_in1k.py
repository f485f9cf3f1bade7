# MoCo v3 + HSSL (ViT-S/16, 100 epochs, no multi-crop; Tab. VI b): the baseline
# plus a depth-3 ConvNeXt auxiliary head without its first shortcut. Keys: the
# momentum encoder's auxiliary projections; queries: the student's base and
# auxiliary branches, each with its own projector and predictor (Eq. 11).
_base_ = '../mocov3/mocov3_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
