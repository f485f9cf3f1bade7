# Tab. I: DINO + HSSL on ViT-S/16 with a depth-3 ResMLP auxiliary head (first shortcut removed).
# The cross-patch linear is learnt for the 14x14 grid of the 224 px global crops; the 96 px local
# crops' 6x6 grids are resampled to it and back around the token mixing (ResMLPHead docstring).
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ResMLPHead', depth=3, first_shortcut=False, grid_size=14)))
