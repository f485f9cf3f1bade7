# Tab. XIV, "A->A": only the auxiliary head learns from its teacher output; the base model learns
# only through the head stacked on it (no loss on its own output, no base projector).
# Compare with ../ablations/dino_vits16_convnext-d1_100e_in1k.py (A->A + A->B, Eq. 1).
_base_ = '../ablations/dino_vits16_convnext-d1_100e_in1k.py'
model = dict(network=dict(supervision='head_only'))
