"""A user's own auxiliary heads, registered in hssl's MODELS registry on import.

Load them from a config with ``custom_imports = dict(imports=['my_heads'])``
(this folder must be on PYTHONPATH).
"""
from .mixer_head import DWMixerBlock, DWMixerHead

__all__ = ['DWMixerBlock', 'DWMixerHead']
