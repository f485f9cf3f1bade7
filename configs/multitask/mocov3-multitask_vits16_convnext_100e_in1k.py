# Per-view-type predictors + HSSL (depth-3 ConvNeXt head): every task's keys
# come from the momentum encoder's auxiliary head; the base and auxiliary
# queries each have one predictor per view type.
_base_ = './mocov3-multitask_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
