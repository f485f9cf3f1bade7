# DINO with a ViT-S/16 base model, no auxiliary head (the baseline).
out_channels = 65536
model = dict(
    type='DINO',
    num_global_views=2,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    network=dict(
        type='HeterogeneousNetwork',
        backbone=dict(type='ViT', arch='small', img_size=224, patch_size=16, drop_path_rate=0.1),
        projector=dict(
            type='DINOProjectionHead',
            out_channels=out_channels,
            hidden_channels=2048,
            bottleneck_channels=256,
            norm_last_layer=True),
        # with an auxiliary head: one last layer for both projectors (the HSSL code)
        share_last_layer=True),
    # HSSL configs add network.auxiliary (e.g. configs/hssl/dino_vits16_convnext_100e_in1k.py).
    loss=dict(type='DINOLoss', out_channels=out_channels, student_temp=0.1, center_momentum=0.9))
