# MoCo v3 + SDSSL + HSSL: keys from the momentum encoder's auxiliary head for
# the final base and auxiliary queries (Eq. 11) and for every intermediate layer.
_base_ = './mocov3-dts_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
