"""Tests of the shipped configs, the model index and the recipe table."""

# Configs kept under an older path for a documented command: alias -> the scheme-named config
# it inherits, unchanged (configs/README.md). The model index lists only the target.
# A module constant (not a fixture): test_config_names.py parametrizes over it.
ALIASES = {'configs/hssl/ibot_vitb_convnext.py': 'configs/hssl/ibot_vitb16_convnext_100e_in1k.py'}
