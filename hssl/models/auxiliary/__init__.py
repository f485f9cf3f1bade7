from .adapter import WidthAdaptedHead
from .base import AuxiliaryHead, AuxiliaryOutput, NoShortcut
from .concat import ConcatHeads
from .convnext import ConvNeXtHead
from .parallel import ParallelNetwork
from .poolformer import PoolFormerHead
from .resmlp import ResMLPHead
from .resnet import ResNetHead
from .swin import SwinHead
from .vit import ViTHead

__all__ = ['AuxiliaryHead', 'AuxiliaryOutput', 'NoShortcut', 'ConcatHeads', 'ConvNeXtHead',
           'PoolFormerHead', 'ResMLPHead', 'ResNetHead', 'SwinHead', 'ViTHead',
           'WidthAdaptedHead', 'ParallelNetwork']
