# tiny_digits_config.py as iBOT + HSSL: block masks on the global views.
_base_ = './tiny_digits_config.py'
model = dict(
    type='IBOT', lambda1=1.0, lambda2=1.0, patch_level_hssl=True,
    network=dict(backbone=dict(patch_size=4, use_mask_token=True)),
    patch_loss=dict(type='MaskedPatchLoss', out_channels=64))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop', global_crops_size=32, local_crops_size=16,
         global_crops_scale=(0.4, 1.0), local_crops_scale=(0.1, 0.4), local_crops_number=2,
         global_extra_pipeline=[dict(type='BlockMaskGenerator', patch_size=4,
                                     pred_ratio=0.3, pred_ratio_var=0.1)]),
    dict(type='PackInputs', algorithm_keys=['patch_mask'])]))
