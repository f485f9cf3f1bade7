# iBOT + HSSL (ViT-B/16), the paper's main recipe (Tab. XX):
#   tools/dist_train.sh configs/hssl/ibot_vitb_convnext.py 8   (ibot_vitb_convnext.py: an alias of this file)
# the baseline plus a depth-3 ConvNeXt auxiliary head without its first shortcut.
_base_ = '../ibot/ibot_vitb16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
