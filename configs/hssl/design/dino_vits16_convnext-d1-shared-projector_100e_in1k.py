# Tab. XVI, shared projection: one projector for the base model's and the head's outputs.
# Compare with ../ablations/dino_vits16_convnext-d1_100e_in1k.py (separate projectors, the default).
_base_ = '../ablations/dino_vits16_convnext-d1_100e_in1k.py'
model = dict(network=dict(share_projector=True))
