# The same views with ONE predictor shared by all view types (plain multi-crop
# MoCo v3): the ablation against per-view-type predictors.
_base_ = './mocov3-multitask_vits16_100e_in1k.py'
model = dict(separate_predictors=False)
