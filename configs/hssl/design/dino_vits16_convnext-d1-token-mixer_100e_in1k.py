# Tab. XV, "Token Mixer": the depth-1 ConvNeXt head keeps its depthwise conv and LayerNorm, not its
# MLP. Compare with ../ablations/dino_vits16_convnext-d1_100e_in1k.py (token mixer + MLP).
_base_ = '../ablations/dino_vits16_convnext-d1_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(structure='token_mixer')))
