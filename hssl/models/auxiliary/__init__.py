from .base import AuxiliaryHead, AuxiliaryOutput, NoShortcut
from .convnext import ConvNeXtHead

__all__ = ['AuxiliaryHead', 'AuxiliaryOutput', 'NoShortcut', 'ConvNeXtHead']
