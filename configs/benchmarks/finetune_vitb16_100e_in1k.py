# Full fine-tuning of a pre-trained ViT-B/16 on ImageNet-1k, HSSL paper Tab. XXI
# (iBOT + HSSL, ViT-B/16): finetune_vits16_100e_in1k.py with drop path 0.2 and
# layer-wise lr decay 0.60. See that file for the rest and the command.
_base_ = './finetune_vits16_100e_in1k.py'
model = dict(backbone=dict(arch='base', drop_path_rate=0.2), head=dict(in_channels=768))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.60))
