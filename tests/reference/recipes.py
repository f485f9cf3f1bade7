"""The official hyper-parameters of every shipped ImageNet recipe, with sources.

A recipe trains with ``total_batch`` images per step on ``gpus`` GPUs (the
config's batch per GPU times that count). ``lr`` is per 256 images.
"""

DINO_VITS16 = dict(
    source='facebookresearch/dino main_dino.py defaults; README "vanilla" ViT-S/16 100 epochs',
    method='dino', gpus=8, total_batch=512, epochs=100, warmup_epochs=10, lr=5e-4,
    min_lr=1e-6, warmup='linspace', weight_decay=(0.04, 0.4), clip=('per_tensor', 3.0),
    momentum=0.996, teacher_temp=(0.04, 0.04, 0), freeze_last_layer=1, out_dim=65536,
    norm_last_layer=True, global_crops_scale=(0.4, 1.0), local_crops_scale=(0.05, 0.4),
    local_crops_number=8)

IBOT_VITS16 = dict(
    source='bytedance/ibot main_ibot.py defaults and README ViT-S/16 command; HSSL Tab. XX '
           '(100 epochs, batch 256, lr 5e-4)',
    method='ibot', gpus=8, total_batch=256, epochs=100, warmup_epochs=10, lr=5e-4,
    min_lr=1e-6, warmup='linspace', weight_decay=(0.04, 0.4), clip=('per_tensor', 3.0),
    momentum=0.996, teacher_temp=(0.04, 0.07, 30), freeze_last_layer=1, out_dim=8192,
    norm_last_layer=False, global_crops_scale=(0.25, 1.0), local_crops_scale=(0.05, 0.25),
    local_crops_number=10, pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2))

IBOT_VITB16 = dict(
    IBOT_VITS16,
    source='bytedance/ibot README ViT-B/16 command; HSSL Tab. XX (100 epochs, batch 256, '
           'lr 7.5e-4, clip 0.3, crops (0.32, 1) / (0.05, 0.32))',
    lr=7.5e-4, min_lr=2e-6, clip=('per_tensor', 0.3), teacher_temp=(0.04, 0.07, 50),
    freeze_last_layer=3, norm_last_layer=True, global_crops_scale=(0.32, 1.0),
    local_crops_scale=(0.05, 0.32))

MOCOV3_VITS16 = dict(
    source='facebookresearch/moco-v3 main_moco.py and CONFIG.md (ViT-S: AdamW, lr 1.5e-4, '
           'wd 0.1, moco-m 0.99 cosine, T 0.2); 100 epochs / 10 warm-up / batch 1024 as hssl',
    method='mocov3', gpus=8, total_batch=1024, epochs=100, warmup_epochs=10, lr=1.5e-4,
    min_lr=0.0, warmup='fraction', weight_decay=(0.1, 0.1), clip=None, momentum=0.99)

MAE_VITS16 = dict(
    source='facebookresearch/mae main_pretrain.py, PRETRAIN.md (blr 1.5e-4, wd 0.05, '
           '40 warm-up epochs, betas (0.9, 0.95), effective batch 4096); 400 epochs (HSSL Tab. V)',
    method='mae', gpus=8, total_batch=4096, accumulate=2, epochs=400, warmup_epochs=40, lr=1.5e-4,
    min_lr=0.0, warmup='fraction', weight_decay=(0.05, 0.05), clip=None, momentum=None)

# config -> official recipe; the HSSL recipes follow their baseline's (HSSL App. B:
# "we follow its official implementation and released training settings").
RECIPES = {
    'dino/dino_vits16_100e_in1k.py': DINO_VITS16,
    'hssl/dino_vits_convnext.py': DINO_VITS16,
    'ibot/ibot_vits16_100e_in1k.py': IBOT_VITS16,
    'hssl/ibot_vits_convnext.py': IBOT_VITS16,
    'ibot/ibot_vitb16_100e_in1k.py': IBOT_VITB16,
    'hssl/ibot_vitb_convnext.py': IBOT_VITB16,
    'mocov3/mocov3_vits16_100e_in1k.py': MOCOV3_VITS16,
    'hssl/mocov3_vits_convnext.py': MOCOV3_VITS16,
    'mae/mae_vits16_400e_in1k.py': MAE_VITS16,
    'hssl/mae_vits_convnext.py': MAE_VITS16,
}
