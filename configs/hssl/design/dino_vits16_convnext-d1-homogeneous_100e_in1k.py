# Tab. XIV, "A->A + B->B": the auxiliary head learns from its own teacher output, the base model
# from its own (homogeneous supervision); compare with ../ablations/dino_vits16_convnext-d1_100e_in1k.py
# (A->A + A->B, Eq. 1). Sec. 5: the ablations use a depth-1 ConvNeXt head.
_base_ = '../ablations/dino_vits16_convnext-d1_100e_in1k.py'
model = dict(network=dict(supervision='homogeneous'))
