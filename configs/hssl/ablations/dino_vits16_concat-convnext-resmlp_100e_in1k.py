# Tab. III: ConvNeXt and ResMLP heads (depth 3 each, first shortcut removed) concatenated along
# the channels (Eq. 9-10): one auxiliary branch of width 384 + 384 = 768 and its own projector.
_base_ = '../../dino/dino_vits16_100e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConcatHeads', heads=[
    dict(type='ConvNeXtHead', depth=3, first_shortcut=False),
    dict(type='ResMLPHead', depth=3, first_shortcut=False, grid_size=14),
])))
