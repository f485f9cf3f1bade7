# One shared predictor + HSSL (depth-3 ConvNeXt head).
_base_ = './mocov3-multitask-shared_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
