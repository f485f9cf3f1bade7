# One shared predictor + HSSL (depth-3 ConvNeXt head).
_base_ = './mocov3_vits16_multitask_shared.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
