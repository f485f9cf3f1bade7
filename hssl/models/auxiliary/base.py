"""The auxiliary head ("auxiliary neck") of HSSL.

It is stacked serially on the base model's output (HSSL Sec. 3.1): the patch
tokens of the last block, before the final norm and without the cls token,
laid out as a 2-D grid, go through ``depth`` blocks of another architecture.
Its cls token is the global average of the output grid, prepended to the
patch tokens and normalised by the head's own LayerNorm. The head is thrown
away after pre-training.

Every architecture is "token mixer + MLP" (Tab. XV) built from timm's blocks;
an adapter only says how to build one block and how to remove the block's
identity shortcut. ``first_shortcut=False`` (the default, Sec. 3.6, Tab. IV)
removes the shortcut of the first block, so a two-block head computes
F1(z) + F2(F1(z)) instead of z + F1(z) + F2(z + F1(z)).
"""
from typing import NamedTuple, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from hssl.models.backbones.vit import trunc_normal_init_


class AuxiliaryOutput(NamedTuple):
    cls: Tensor  # (B, C) normalised global average of the output grid
    patch: Tensor  # (B, N, C) normalised output tokens


class NoShortcut(nn.Module):
    """Stands in for a block's identity shortcut: the block computes F(x) only."""

    def forward(self, x):
        return 0


class AuxiliaryHead(BaseModule):
    """Base class: ``depth`` blocks on a ``(B, C, h, w)`` grid.

    Subclasses implement :meth:`build_block` (and :meth:`remove_shortcut`) and
    set ``layout``: the tensor layout their blocks take, ``'nchw'``,
    ``'nhwc'`` or ``'nlc'`` (tokens).

    Args:
        in_channels: width of the base model's tokens (the head keeps it).
        depth: number of blocks (paper default 3, Sec. 4.1).
        first_shortcut: keep the identity shortcut of the first block.
            Default False (removed), as in the paper.
        drop_path_rate: stochastic depth, a float (rates grow linearly from 0
            to it over the blocks) or one rate per block. A block without a
            shortcut gets no drop path: dropping its only branch would zero it.
    """
    layout = 'nchw'

    def __init__(self,
                 in_channels: int,
                 depth: int = 3,
                 first_shortcut: bool = False,
                 drop_path_rate: Union[float, Sequence[float]] = 0.0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f'{type(self).__name__}: depth must be an integer >= 1, got {depth!r}')
        if isinstance(drop_path_rate, (int, float)):
            rates = torch.linspace(0, float(drop_path_rate), depth).tolist()
        else:
            rates = [float(r) for r in drop_path_rate]
            if len(rates) != depth:
                raise ValueError(f'{type(self).__name__}: drop_path_rate has {len(rates)} entries '
                                 f'for depth={depth}')
        self.in_channels = in_channels
        self.depth = depth
        self.first_shortcut = first_shortcut
        blocks = []
        for i, rate in enumerate(rates):
            if i == 0 and not first_shortcut:
                blocks.append(self.remove_shortcut(self.build_block(i, in_channels, 0.0)))
            else:
                blocks.append(self.build_block(i, in_channels, rate))
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.LayerNorm(in_channels, eps=1e-6)

    @property
    def out_channels(self) -> int:
        """Width of the head's tokens (what its projector takes)."""
        return self.in_channels

    def build_block(self, index: int, dim: int, drop_path: float) -> nn.Module:
        raise NotImplementedError

    def remove_shortcut(self, block: nn.Module) -> nn.Module:
        """Return ``block`` changed to compute its residual branch only."""
        raise NotImplementedError(f'{type(self).__name__} does not support first_shortcut=False')

    def init_weights(self):
        super().init_weights()
        if self.init_cfg is None:
            # as the HSSL code, whose ViT._init_weights reaches the head's blocks:
            # Linear and LayerNorm layers only, convolutions keep PyTorch's default
            trunc_normal_init_(self)

    def forward(self, grid: Tensor) -> AuxiliaryOutput:
        B, C, h, w = grid.shape
        if self.layout == 'nchw':
            x = self.blocks(grid).flatten(2).transpose(1, 2)
        elif self.layout == 'nhwc':
            x = self.blocks(grid.permute(0, 2, 3, 1)).reshape(B, h * w, C)
        else:  # 'nlc'
            x = self.blocks(grid.flatten(2).transpose(1, 2))
        x = self.norm(torch.cat((x.mean(dim=1, keepdim=True), x), dim=1))
        return AuxiliaryOutput(cls=x[:, 0], patch=x[:, 1:])
