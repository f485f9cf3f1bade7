"""An auxiliary head of a new architecture, defined outside hssl.

DWMixerBlock, "token mixer + MLP" on a (B, C, h, w) grid:

    x = shortcut(x) + mixer(norm1(x))      # depthwise k x k conv: the token mixer
    x = x + mlp(norm2(x))                  # 1x1 conv C -> r*C, GELU, 1x1 conv r*C -> C

The token-mixer residual goes through ``self.shortcut`` (an ``nn.Identity``),
so :meth:`DWMixerHead.remove_shortcut` only swaps that module for hssl's
``NoShortcut``.
"""
from timm.layers import DropPath
from torch import nn

from hssl.models.auxiliary import AuxiliaryHead, NoShortcut
from hssl.registry import MODELS


class DWMixerBlock(nn.Module):

    def __init__(self, dim: int, kernel_size: int = 5, mlp_ratio: float = 2.0,
                 drop_path: float = 0.0):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.GroupNorm(1, dim)
        self.mixer = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm2 = nn.GroupNorm(1, dim)
        self.mlp = nn.Sequential(nn.Conv2d(dim, hidden, 1), nn.GELU(), nn.Conv2d(hidden, dim, 1))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.shortcut = nn.Identity()

    def forward(self, x):
        x = self.shortcut(x) + self.drop_path(self.mixer(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class DWMixerHead(AuxiliaryHead):
    """``depth`` DWMixerBlocks; options beyond AuxiliaryHead's (depth,
    first_shortcut, drop_path_rate): ``kernel_size`` and ``mlp_ratio``."""
    layout = 'nchw'  # the blocks take (B, C, h, w)

    def __init__(self, in_channels: int, kernel_size: int = 5, mlp_ratio: float = 2.0, **kwargs):
        # set the options before super().__init__: it calls build_block
        self.kernel_size = kernel_size
        self.mlp_ratio = mlp_ratio
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        return DWMixerBlock(dim, self.kernel_size, self.mlp_ratio, drop_path)

    def remove_shortcut(self, block):
        block.shortcut = NoShortcut()  # the first block computes mixer(norm1(z)), then its MLP residual
        return block
