# DINO + HSSL on the embedded digits (the quickstart): the baseline plus a
# depth-3 ConvNeXt auxiliary head without its first shortcut.
_base_ = '../dino/dino_vitmini8_12e_digits.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
