"""ResMLP auxiliary head: timm's ``mlp_mixer.ResBlock`` on the token grid.

Block: Affine (per-channel ``a * x + b``, ResMLP's "norm") -> cross-patch
Linear over the tokens (the token mixer, one N x N matrix shared by all
channels) -> layer scale -> residual; Affine -> MLP C->4C->C (GELU) -> layer
scale -> residual.

Grid sizes. The cross-patch Linear has a fixed number of tokens, but
multi-crop sends grids of several sizes through the same head (2 globals of
14x14 and several locals of 6x6 with ViT-S/16 at 224/96 px). The head's
token-mixing matrix W is learnt for ``grid_size`` (default 14x14). On an h x w
grid of another size the token mixer resizes its input bilinearly to
``grid_size``, applies W, and resizes the result back to h x w (antialiased
when shrinking). Both resizes are linear maps, so this is one h*w x h*w matrix
``D W U`` (and bias ``D b``), computed from W at each call; gradients reach W
through it. Only the token mixing is resampled: the Affine, MLP and residuals
act on the grid's own tokens. On a ``grid_size`` grid the block is exactly
timm's.
"""
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from timm.layers import to_2tuple
from timm.models.mlp_mixer import ResBlock
from torch import Tensor, nn

from hssl.registry import MODELS
from .base import AuxiliaryHead


def resize_matrix(src: Tuple[int, int], dst: Tuple[int, int], device=None, dtype=None) -> Tensor:
    """The (dst_h*dst_w, src_h*src_w) matrix of bilinear resizing a src grid to dst."""
    n = src[0] * src[1]
    basis = torch.eye(n, device=device, dtype=dtype).view(n, 1, *src)
    out = F.interpolate(basis, size=dst, mode='bilinear', align_corners=False,
                        antialias=dst[0] < src[0] or dst[1] < src[1])
    return out.reshape(n, dst[0] * dst[1]).t()


class GridTokenMixing(nn.Linear):
    """ResBlock's ``linear_tokens`` (an ``nn.Linear`` over ``grid_size`` tokens)
    that takes a grid of any size.

    timm's ResBlock calls ``linear_tokens(norm1(x).transpose(1, 2))``; the
    head feeds the block ``(B, h, w, C)`` grids, so this module receives
    ``(B, w, h, C)`` and knows the grid's shape. The parameters are those of
    the ``nn.Linear`` it replaces (same state-dict keys).
    """

    def __init__(self, grid_size: Tuple[int, int]):
        self.grid_size = tuple(grid_size)
        n = self.grid_size[0] * self.grid_size[1]
        super().__init__(n, n)

    def operator(self, h: int, w: int) -> Tuple[Tensor, Tensor]:
        if (h, w) == self.grid_size:
            return self.weight, self.bias
        kw = dict(device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            up = resize_matrix((h, w), self.grid_size, **kw)  # (G, hw)
            down = resize_matrix(self.grid_size, (h, w), **kw)  # (hw, G)
        return down @ self.weight @ up, down @ self.bias

    def forward(self, x: Tensor) -> Tensor:
        B, w, h, C = x.shape
        weight, bias = self.operator(h, w)
        tokens = x.permute(0, 3, 2, 1).reshape(B, C, h * w)  # row-major, as the grid's tokens
        return F.linear(tokens, weight, bias).reshape(B, C, h, w).permute(0, 3, 2, 1)

    def extra_repr(self):
        return f'grid_size={self.grid_size}, ' + super().extra_repr()


class ResBlockWithoutFirstShortcut(ResBlock):
    """timm's ``ResBlock`` without the token-mixing residual:
    ``y = ls1 * mix(norm1(x))``, then ``y + ls2 * mlp(norm2(y))``."""

    def forward(self, x):
        x = self.drop_path(self.ls1 * self.linear_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2))
        return x + self.drop_path(self.ls2 * self.mlp_channels(self.norm2(x)))


@MODELS.register_module()
class ResMLPHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        grid_size: the token grid the cross-patch Linear is learnt for, an
            int or (h, w); 14 = ViT-*/16 at 224 px. Other grid sizes are
            resampled to it and back around the token mixing (module
            docstring). Set it to the global crops' grid.
        mlp_ratio: hidden width of the channel MLP as a multiple of the width.
        layer_scale_init_value: initial value of the per-channel layer scales
            (ResMLP always has them): 1.0 (default) starts as a plain
            residual; ResMLP's 0.1 or 1e-4 shrink a shallow head's output
            towards 0 when its first shortcut is removed (Affine does not
            normalise).
    """
    layout = 'nhwc'

    def __init__(self, in_channels: int, grid_size: Union[int, Sequence[int]] = 14,
                 mlp_ratio: float = 4.0, layer_scale_init_value: float = 1.0, **kwargs):
        self.grid_size = tuple(to_2tuple(grid_size))
        self.mlp_ratio = mlp_ratio
        self.layer_scale_init_value = layer_scale_init_value
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        n = self.grid_size[0] * self.grid_size[1]
        block = ResBlock(dim, n, mlp_ratio=self.mlp_ratio, init_values=self.layer_scale_init_value,
                         drop_path=drop_path)
        block.linear_tokens = GridTokenMixing(self.grid_size)
        return block

    def remove_shortcut(self, block):
        if type(block) is not ResBlock:
            raise TypeError(f'ResMLPHead.remove_shortcut expects a timm ResBlock, got {type(block).__name__}')
        block.__class__ = ResBlockWithoutFirstShortcut
        return block
