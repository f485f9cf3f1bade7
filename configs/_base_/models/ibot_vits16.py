# iBOT with a ViT-S/16 base model, no auxiliary head (the baseline).
# One projection head shared by cls and patch tokens (iBOT's --shared_head true),
# out_dim 8192, last layer not weight-normalised (iBOT's ViT-S/16 command:
# --norm_last_layer false). With an auxiliary head, its projector's MLP is its own
# and the last layer is shared with the base projector (the HSSL code's HSSLHead).
out_channels = 8192
model = dict(
    type='IBOT',
    num_global_views=2,
    lambda1=1.0,
    lambda2=1.0,
    patch_level_hssl=False,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    network=dict(
        type='HeterogeneousNetwork',
        backbone=dict(type='ViT', arch='small', img_size=224, patch_size=16,
                      drop_path_rate=0.1, use_mask_token=True),
        projector=dict(
            type='DINOProjectionHead',
            out_channels=out_channels,
            hidden_channels=2048,
            bottleneck_channels=256,
            norm_last_layer=False,
            # None: cls and patch tokens share the last layer (iBOT's shared_head, the
            # HSSL recipe); an int gives patch tokens their own last layer of that width
            # (set patch_loss.out_channels to match)
            patch_out_channels=None),
        share_last_layer=True),
    # HSSL configs add network.auxiliary (e.g. configs/hssl/ibot_vits16_convnext_100e_in1k.py).
    loss=dict(type='DINOLoss', out_channels=out_channels, student_temp=0.1, center_momentum=0.9),
    patch_loss=dict(type='MaskedPatchLoss', out_channels=out_channels, student_temp=0.1,
                    center_momentum=0.9))
