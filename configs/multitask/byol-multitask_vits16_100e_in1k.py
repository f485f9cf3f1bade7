# BYOL with the views and per-view-type predictors of
# mocov3-multitask_vits16_100e_in1k.py (2 global + 2 cutout + 6 local views; keys: the 2
# global views). HSSL: add model.network.auxiliary as in the _convnext configs.
_base_ = ['../byol/byol_vits16_100e_in1k.py',
          '../_base_/datasets/imagenet_multitask_views.py']
model = dict(separate_predictors=True, task_weights={'global': 1.0, 'cutout': 1.0, 'local': 1.0})
train_dataloader = dict(dataset=dict(pipeline={{_base_.multitask_pipeline}}))
