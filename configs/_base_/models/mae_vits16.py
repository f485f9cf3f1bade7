# MAE with a ViT-S/16 base model, no auxiliary head (the baseline): 75 % of
# the patches masked at random, MAE's decoder (512 wide, 8 blocks, 16 heads),
# per-patch normalised pixel targets (norm_pix), L2 over the masked patches.
# With an auxiliary head (configs/hssl/mae_vits16_convnext_400e_in1k.py) the head
# reconstructs pixels through aux_decoder (default: a copy of decoder) and the
# base model reconstructs the head's tokens through decoder; aux_input says
# what the head sees at masked positions ('mask_token' or 'zeros').
patch_size = 16
model = dict(
    type='MAE',
    mask_ratio=0.75,
    aux_input='mask_token',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    network=dict(
        type='HeterogeneousNetwork',
        backbone=dict(type='MAEViT', arch='small', img_size=224, patch_size=patch_size),
        projector=None),  # MAE has decoders instead (below), one per branch
    decoder=dict(
        type='MAEPretrainDecoder', num_patches=196, patch_size=patch_size,
        decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4,
        init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
                  dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)]),
    pixel_head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=patch_size,
                    loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    feature_loss=dict(type='PixelReconstructionLoss', criterion='L2'))
