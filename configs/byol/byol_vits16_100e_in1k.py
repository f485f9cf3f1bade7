# BYOL with a ViT-S/16 (MoCo v3's ViT recipe: frozen random patch embedding,
# sin-cos positions; its schedule, views and momentum 0.99 -> 1), two views.
# Projector and predictor: Linear-BN-ReLU-Linear, 4096 hidden, 256 out; loss
# 2 - 2 cos(pred(q1), k2) + 2 - 2 cos(pred(q2), k1), keys from the EMA target.
_base_ = '../mocov3/mocov3_vits16_100e_in1k.py'
model = dict(
    type='BYOL',
    separate_predictors=False,  # two views: one predictor (the multitask config has one per type)
    network=dict(projector=dict(num_layers=2, with_last_bn=False)),
    predictor=dict(num_layers=2, with_last_bn=False),
    loss=dict(_delete_=True, type='CosineSimilarityLoss', shift_factor=2.0, scale_factor=2.0))
