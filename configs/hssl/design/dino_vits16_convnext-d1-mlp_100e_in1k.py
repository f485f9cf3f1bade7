# Tab. XV, "MLP": the depth-1 ConvNeXt head keeps its LayerNorm and MLP, not its depthwise conv.
# Compare with ../ablations/dino_vits16_convnext-d1_100e_in1k.py (token mixer + MLP).
_base_ = '../ablations/dino_vits16_convnext-d1_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(structure='mlp')))
