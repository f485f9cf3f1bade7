# DINO + DTS + HSSL (depth-3 ConvNeXt head): with an auxiliary head the final
# base output learns the teacher's AUXILIARY output (Eq. 1), and so do the
# intermediate layers (their target is always the last layer's target).
_base_ = './dino-dts_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
