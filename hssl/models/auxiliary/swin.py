"""Swin auxiliary head: timm's ``SwinTransformerBlock`` on the token grid.

Block: LayerNorm -> window multi-head self-attention with a relative position
bias (the token mixer; every second block shifts its windows by half a
window) -> residual; LayerNorm -> MLP C->4C->C (GELU) -> residual.

Windows on any grid. timm 1.0.31's block fixes its window at construction
(``set_input_size`` changes it by resizing the bias table, a new parameter:
not something to do per forward); at run time it only pads a grid to a
multiple of the window, with the shift kept. Multi-crop sends 14x14 globals
and 6x6 locals (ViT-S/16 at 224/96 px) through the same head, so
:class:`GridSwinBlock` fits the window to each grid, per dimension:

* a side of ``s <= window_size`` tokens gets one window of ``s`` (attention
  over the whole side, no shift): 6x6 -> one 6x6 window, 3x5 -> one 3x5;
* a longer side is cut into ``n = ceil(s / window_size)`` windows of
  ``ceil(s / n)`` tokens (14 -> 2 x 7, 8 -> 2 x 4, 16 -> 3 x 6, padded to 18),
  and shifted blocks shift by half that window;
* a window smaller than ``window_size`` uses the matching part of the one
  bias table (relative offsets up to ``window_size - 1``): no interpolation,
  the same parameters for every grid;
* a grid that is not a multiple of its window is zero-padded before the
  shift and the attention mask is built on the padded grid (as Swin does
  for detection), then cropped.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from timm.models.swin_transformer import SwinTransformerBlock

from hssl.registry import MODELS
from .base import AuxiliaryHead
from .vit import heads_for


def fit_window(size: int, window_size: int) -> int:
    """The window along a side of ``size`` tokens (at most ``window_size``)."""
    return math.ceil(size / math.ceil(size / window_size))


class GridSwinBlock(SwinTransformerBlock):
    """timm's block, its window fitted to each input grid (module docstring).

    Args:
        dim: width.
        window_size: the largest window (the bias table's size).
        shifted: a shifted-window block (shift = half the fitted window along
            each side that has more than one window).
        **kwargs: timm's ``SwinTransformerBlock`` options (num_heads, ...).
    """

    def __init__(self, dim: int, window_size: int = 7, shifted: bool = False, **kwargs):
        super().__init__(dim, input_resolution=(window_size, window_size), window_size=window_size,
                         shift_size=0, dynamic_mask=True, **kwargs)
        self.max_window = window_size
        self.shifted = shifted
        # The relative position index of the full window into the bias table, a buffer of
        # fixed shape. The index of the fitted window is derived from it at each call and
        # kept as a plain attribute, not a buffer: buffers must keep their shapes (the EMA
        # teacher copies the student's buffers, and the two see different grids).
        self.register_buffer('full_position_index', self.attn.relative_position_index.clone(),
                             persistent=False)
        del self.attn.relative_position_index

    def fit(self, H: int, W: int) -> None:
        """Set the window, shift and position index timm's ``_attn`` uses for H x W."""
        window = (fit_window(H, self.max_window), fit_window(W, self.max_window))
        self.shift_size = tuple(w // 2 if self.shifted and s > w else 0
                                for s, w in zip((H, W), window))
        device = self.full_position_index.device
        rows = torch.arange(window[0], device=device)[:, None] * self.max_window
        keep = (rows + torch.arange(window[1], device=device)).flatten()
        self.attn.relative_position_index = self.full_position_index[keep][:, keep]
        self.window_size = self.attn.window_size = window
        self.window_area = self.attn.window_area = window[0] * window[1]

    def _attn(self, x):
        B, H, W, C = x.shape
        self.fit(H, W)
        pad_h, pad_w = (-H) % self.window_size[0], (-W) % self.window_size[1]
        if pad_h or pad_w:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        return super()._attn(x)[:, :H, :W]


class GridSwinBlockWithoutFirstShortcut(GridSwinBlock):
    """Without the attention residual: ``y = attn(norm1(x))``, then
    ``y + mlp(norm2(y))``."""

    def forward(self, x):
        B, H, W, C = x.shape
        x = self.drop_path1(self._attn(self.norm1(x))).reshape(B, -1, C)
        x = x + self.drop_path2(self.mlp(self.norm2(x)))
        return x.reshape(B, H, W, C)


@MODELS.register_module()
class SwinHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        window_size: the largest attention window, 7 as Swin (a 14x14 grid
            gets 2x2 windows of 7x7, a 6x6 grid one 6x6 window).
        num_heads: attention heads; None (default) derives it from the width
            as ``width // head_dim``: 6 / 12 / 24 heads at 192 / 384 / 768.
        head_dim: channels per head when ``num_heads`` is None (32, as Swin).
        mlp_ratio: hidden width of the MLP as a multiple of the width.

    Blocks alternate regular and shifted windows, starting with regular ones.
    """
    layout = 'nhwc'

    def __init__(self, in_channels: int, window_size: int = 7, num_heads: Optional[int] = None,
                 head_dim: int = 32, mlp_ratio: float = 4.0, **kwargs):
        self.window_size = window_size
        self.num_heads = heads_for(in_channels, num_heads, head_dim, 'SwinHead')
        self.mlp_ratio = mlp_ratio
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        return GridSwinBlock(dim, window_size=self.window_size, shifted=index % 2 == 1,
                             num_heads=self.num_heads, mlp_ratio=self.mlp_ratio, drop_path=drop_path)

    def remove_shortcut(self, block):
        if type(block) is not GridSwinBlock:
            raise TypeError(f'SwinHead.remove_shortcut expects a GridSwinBlock, got {type(block).__name__}')
        block.__class__ = GridSwinBlockWithoutFirstShortcut
        return block
