# iBOT + HSSL (ViT-B/16) with the colour augmentations on the GPU
# (docs/user_guides/data.md): the data-loader workers only decode, crop, flip
# and draw the block masks (DINOGeometricMultiCrop, uint8 views); colour
# jitter, grayscale, blur, solarisation and normalisation run batched on the
# GPU in the data preprocessor (DINOColorAugment, kornia), with DINOMultiCrop's
# probabilities and ranges. Same views, masks and model as ibot_vitb16_convnext_100e_in1k.py.
_base_ = './ibot_vitb16_convnext_100e_in1k.py'
model = dict(data_preprocessor=dict(
    type='MultiViewAugmentPreprocessor',
    augment=dict(type='DINOColorAugment', local_crops_number=10)))
train_dataloader = dict(num_workers=8, dataset=dict(pipeline=[
    dict(type='DINOGeometricMultiCrop',
         global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.32, 1.0), local_crops_scale=(0.05, 0.32),
         local_crops_number=10,
         global_extra_pipeline=[
             dict(type='BlockMaskGenerator', patch_size=16,
                  pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2), pred_shape='block')]),
    dict(type='PackInputs', algorithm_keys=['patch_mask']),
]))
