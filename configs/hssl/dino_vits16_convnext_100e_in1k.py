# DINO + HSSL: the baseline plus a depth-3 ConvNeXt auxiliary head without its
# first shortcut (paper Sec. 3.6, 4.1). Diff it against the baseline: this is all.
_base_ = '../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
