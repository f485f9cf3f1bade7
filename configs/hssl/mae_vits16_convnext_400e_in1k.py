# MAE + HSSL (ViT-S/16, 400 epochs; Tab. V, App. D): the baseline plus a
# depth-3 ConvNeXt auxiliary head without its first shortcut. The head
# reconstructs pixels, the base model the head's tokens, each through its own
# decoder; the head sees a learnt mask token at masked positions
# (model.aux_input='mask_token', see docs/user_guides/methods.md).
_base_ = '../mae/mae_vits16_400e_in1k.py'
model = dict(network=dict(auxiliary=dict(type='ConvNeXtHead', depth=3, first_shortcut=False)))
