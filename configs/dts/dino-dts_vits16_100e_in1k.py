# DINO + deep-to-shallow supervision (DTS; the comparison of the HSSL paper's
# Tab. XIX, SDSSL's mechanism): ViT-S/16, 100 epochs, ImageNet-1k. Every block
# but the last takes its cls token through the shared final norm and its own
# DINO projection head and learns the teacher's final output (the target of the
# last layer) over the same view pairs; the intermediate weight ramps by cosine
# from 0 to r = 1 over training (ramp='cosine'), shared over the 11 layers
# (r / 11 each). Cost: 11 more projection heads of 65536 outputs (about 22 M
# parameters each).
_base_ = '../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(intermediate=dict(layers=None, weight=1.0, ramp='cosine')))
