# The quickstart recipe (DINO + HSSL on the embedded digits, CPU) with the head from
# examples/custom_head/my_heads instead of ConvNeXt. From the repository root:
#   PYTHONPATH=examples/custom_head python tools/train.py examples/custom_head/dino_vitmini8_dwmixer_12e_digits.py
_base_ = '../../configs/hssl/dino_vitmini8_convnext_12e_digits.py'
custom_imports = dict(imports=['my_heads'], allow_failed_imports=False)
model = dict(network=dict(auxiliary=dict(_delete_=True, type='DWMixerHead', depth=3)))
