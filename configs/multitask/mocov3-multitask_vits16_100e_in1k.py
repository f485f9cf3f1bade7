# MoCo v3, multi-task asymmetric Siamese SSL (arXiv 2602.05845): ViT-S/16,
# 100 epochs, ImageNet-1k; 2 global views (224 px, scale (0.25, 1)) + 2 cutout
# views (a global crop with 20-40% of its area filled with the mean before
# colour jitter) + 6 local views (96 px, scale (0.05, 0.25)); one predictor per
# view type; targets: the momentum encoder's keys of the 2 global views; task
# weights 1. The numbers of views, scales and weights are this framework's
# choices (the paper's are not in the material at hand).
_base_ = ['../mocov3/mocov3_vits16_100e_in1k.py',
          '../_base_/datasets/imagenet_multitask_views.py']
model = dict(type='MultiTaskMoCoV3', separate_predictors=True,
             task_weights={'global': 1.0, 'cutout': 1.0, 'local': 1.0})
train_dataloader = dict(dataset=dict(pipeline={{_base_.multitask_pipeline}}))
