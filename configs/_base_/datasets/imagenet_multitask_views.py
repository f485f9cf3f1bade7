# Multi-task asymmetric Siamese SSL views (arXiv 2602.05845): 2 global views
# (224 px, scale (0.25, 1)) + 2 cutout views (a global crop with 20-40% of its
# area filled with the ImageNet mean before colour jitter) + 6 local views
# (96 px, scale (0.05, 0.25)), each view's type packed as data_sample.view_type.
# Use it as train_dataloader = dict(dataset=dict(pipeline={{_base_.multitask_pipeline}})).
multitask_pipeline = [
    dict(type='LoadImage'),
    dict(type='MultiTaskMultiCrop', global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.25, 1.0), local_crops_scale=(0.05, 0.25),
         local_crops_number=6, cutout_number=2, cutout_area=(0.2, 0.4),
         mean=(123.675, 116.28, 103.53)),
    dict(type='PackInputs', algorithm_keys=['view_type']),
]
