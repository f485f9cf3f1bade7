# The quickstart recipe (DINO + HSSL on the embedded digits, CPU) with the head from
# examples/custom_head/my_heads instead of ConvNeXt. From the repository root:
#   PYTHONPATH=examples/custom_head python tools/train.py examples/custom_head/digits_myhead.py
_base_ = '../../configs/hssl/dino_vitp8_convnext_digits.py'
custom_imports = dict(imports=['my_heads'], allow_failed_imports=False)
model = dict(network=dict(auxiliary=dict(_delete_=True, type='DWMixerHead', depth=3)))
