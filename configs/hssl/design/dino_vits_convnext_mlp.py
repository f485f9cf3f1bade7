# Tab. XV, "MLP": the depth-1 ConvNeXt head keeps its LayerNorm and MLP, not its depthwise conv.
# Compare with ../ablations/dino_vits_convnext_depth1.py (token mixer + MLP).
_base_ = '../ablations/dino_vits_convnext_depth1.py'
model = dict(network=dict(auxiliary=dict(structure='mlp')))
