# Tab. XV, "Token Mixer": the depth-1 ConvNeXt head keeps its depthwise conv and LayerNorm, not its
# MLP. Compare with ../ablations/dino_vits_convnext_depth1.py (token mixer + MLP).
_base_ = '../ablations/dino_vits_convnext_depth1.py'
model = dict(network=dict(auxiliary=dict(structure='token_mixer')))
