# Linear probing of a pre-trained ViT-B/16 on ImageNet-1k: linear_vits16_100e_in1k.py
# with the base width. See that file for the protocol and the command.
_base_ = './linear_vits16_100e_in1k.py'
model = dict(backbone=dict(arch='base'), head=dict(in_channels=768))
