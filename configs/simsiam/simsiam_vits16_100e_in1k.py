# SimSiam with a ViT-S/16 (MoCo v3's ViT recipe, schedule and views), two views,
# no momentum encoder: keys are the online projections with the gradient
# stopped. Projector 3 layers (2048 hidden, 2048 out, affine-free last BN),
# predictor 2048 -> 512 -> 2048; loss -(cos(p1, z2) + cos(p2, z1)) / 2.
_base_ = '../mocov3/mocov3_vits16_100e_in1k.py'
model = dict(
    type='SimSiam',
    separate_predictors=False,  # two views: one predictor (the multitask config has one per type)
    network=dict(projector=dict(hid_channels=2048, out_channels=2048, num_layers=3,
                                with_last_bn=True, with_last_bn_affine=False)),
    predictor=dict(hid_channels=512, out_channels=2048, num_layers=2, with_last_bn=False),
    loss=dict(_delete_=True, type='CosineSimilarityLoss', shift_factor=0.0, scale_factor=0.5))
custom_hooks = []  # no EMA teacher
