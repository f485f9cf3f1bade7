# Alias kept for the documented command `tools/dist_train.sh configs/hssl/ibot_vitb_convnext.py 8`:
# the same recipe as ibot_vitb16_convnext_100e_in1k.py (iBOT + HSSL, ViT-B/16, 100 epochs, IN-1k).
_base_ = './ibot_vitb16_convnext_100e_in1k.py'
