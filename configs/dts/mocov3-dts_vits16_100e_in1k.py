# MoCo v3 + SDSSL (Jang et al., WACV 2023): ViT-S/16, 100 epochs, ImageNet-1k.
# Every block but the last: cls token -> shared final norm -> its own projector
# and predictor -> InfoNCE against the momentum encoder's final key of the
# other view; weight ramped by cosine from 0 to r = 1.0 (SDSSL's MoCo ratio),
# averaged over the 11 layers.
_base_ = '../mocov3/mocov3_vits16_100e_in1k.py'
model = dict(network=dict(intermediate=dict(layers=None, weight=1.0, ramp='cosine')))
