# DINO + HSSL on ViT-S/16 with a head from the user's own package (examples/custom_head/my_heads).
# Run from the repository root with this folder on PYTHONPATH:
#   PYTHONPATH=examples/custom_head python tools/train.py examples/custom_head/dino_vits16_dwmixer_100e_in1k.py
_base_ = '../../configs/hssl/dino_vits16_convnext_100e_in1k.py'

# imported when the config is loaded: registers DWMixerHead in hssl's MODELS
custom_imports = dict(imports=['my_heads'], allow_failed_imports=False)

# _delete_=True replaces the base's ConvNeXtHead dict instead of merging into it: nothing of
# the base head's config is carried over (a merge would keep every key the base sets, and a
# ConvNeXt-only one such as kernel_size=7 or layer_scale_init_value would reach the new head)
model = dict(network=dict(auxiliary=dict(
    _delete_=True, type='DWMixerHead', depth=3, first_shortcut=False, kernel_size=5, mlp_ratio=2.0)))
