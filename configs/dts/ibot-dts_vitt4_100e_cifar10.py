# iBOT ViT-T/4 on CIFAR-10 + deep-to-shallow supervision (DTS, Tab. XIX): the
# CIFAR-10 baseline configs/ibot/ibot_vitt4_100e_cifar10.py with the cls tokens of
# blocks 0..10 (shared final norm, one projection head each) learning the
# teacher's final cls target, weight ramped by cosine from 0 to r = 1 (r / 11
# per layer).
_base_ = '../ibot/ibot_vitt4_100e_cifar10.py'
model = dict(network=dict(intermediate=dict(layers=None, weight=1.0, ramp='cosine')))
