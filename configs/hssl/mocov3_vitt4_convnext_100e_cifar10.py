# MoCo v3 + HSSL on CIFAR-10 (32 px): the CIFAR baseline plus a depth-3 ConvNeXt
# auxiliary head without its first shortcut. Data: see the baseline config.
_base_ = '../mocov3/mocov3_vitt4_100e_cifar10.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
