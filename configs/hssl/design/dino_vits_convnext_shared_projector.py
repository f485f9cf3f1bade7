# Tab. XVI, shared projection: one projector for the base model's and the head's outputs.
# Compare with ../ablations/dino_vits_convnext_depth1.py (separate projectors, the default).
_base_ = '../ablations/dino_vits_convnext_depth1.py'
model = dict(network=dict(share_projector=True))
