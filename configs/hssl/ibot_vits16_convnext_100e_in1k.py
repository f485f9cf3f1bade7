# iBOT + HSSL (ViT-S/16): the baseline plus a depth-3 ConvNeXt auxiliary head
# without its first shortcut (Sec. 3.6, 4.1). Image-level HSSL as in the
# official code; set model.patch_level_hssl=True for Tab. XVIII's image + patch.
_base_ = '../ibot/ibot_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
