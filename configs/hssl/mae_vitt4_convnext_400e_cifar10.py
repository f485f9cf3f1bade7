# MAE + HSSL on CIFAR-10 (32 px): the CIFAR baseline plus a depth-3 ConvNeXt
# auxiliary head without its first shortcut (mask tokens at masked positions).
# Data: see the baseline config.
_base_ = '../mae/mae_vitt4_400e_cifar10.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
