# MoCo v3 with a ViT-S/16 base model, no auxiliary head (the baseline).
# MoCo v3's ViT-S has 12 heads; random frozen patch embedding, fixed sin-cos
# position embedding (MoCoV3ViT). Projector 3 layers (4096, 256, last BN
# affine-free), predictor 2 layers (last BN affine-free too), InfoNCE T = 0.2 (scaled by 2T).
# SyncBN as MoCo v3 (acts as BN on one process; BN1d on CPU process groups).
norm_cfg = dict(type='SyncBN')
model = dict(
    type='MoCoV3',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    network=dict(
        type='HeterogeneousNetwork',
        backbone=dict(type='MoCoV3ViT', img_size=224, patch_size=16, stop_grad_conv1=True,
                      arch=dict(embed_dims=384, num_layers=12, num_heads=12,
                                feedforward_channels=1536)),
        projector=dict(type='MoCoV3MLP', hid_channels=4096, out_channels=256, num_layers=3,
                       with_last_bn=True, with_last_bn_affine=False, norm_cfg=norm_cfg)),
    # HSSL configs add network.auxiliary (e.g. configs/hssl/mocov3_vits16_convnext_100e_in1k.py).
    # moco/builder.py _build_mlp(2, 256, 4096, 256): ends with an affine-free BN, as the projector
    predictor=dict(type='MoCoV3MLP', hid_channels=4096, out_channels=256, num_layers=2,
                   with_last_bn=True, with_last_bn_affine=False, norm_cfg=norm_cfg),
    loss=dict(type='InfoNCELoss', temperature=0.2, scale_by_2t=True))
