# Tab. XVII, "parallel": the auxiliary network is a whole ConvNeXt-T (timm's convnext_tiny,
# 768 channels) that takes the images directly. Compare with the serial depth-3 ConvNeXt head,
# ../ablations/dino_vits16_convnext-d3_100e_in1k.py, and the baseline ../../dino/dino_vits16_100e_in1k.py.
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ParallelNetwork', model_name='convnext_tiny')))
