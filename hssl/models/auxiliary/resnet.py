"""ResNet auxiliary head: timm's ResNet ``Bottleneck`` (or ``BasicBlock``) on the grid.

Bottleneck (default): 1x1 conv C->C/4, BN, ReLU, 3x3 conv, BN, ReLU, 1x1 conv
C/4->C, BN, plus the identity shortcut, then a ReLU: ``act(z + F(z))``.
BasicBlock: two 3x3 convs C->C with BN (ReLU between), shortcut, ReLU.
The 3x3 conv is the token mixer, the 1x1 convs act per token.

A ResNet block has a single residual, followed by an activation: with its
shortcut removed it computes ``act(F(z))``.
"""
from timm.layers import DropPath
from timm.models.resnet import BasicBlock, Bottleneck

from hssl.registry import MODELS
from .base import AuxiliaryHead, NoShortcut


@MODELS.register_module()
class ResNetHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        block: ``'bottleneck'`` (default; width C/4 inside, as ResNet-50) or
            ``'basic'`` (two 3x3 convs at width C, as ResNet-18).

    Normalisation is timm's default BatchNorm2d: in training mode it uses the
    statistics of each forward batch (each crop size is one batch in
    multi-crop); it is not synchronised across GPUs.
    """
    layout = 'nchw'
    BLOCKS = {'bottleneck': Bottleneck, 'basic': BasicBlock}

    def __init__(self, in_channels: int, block: str = 'bottleneck', **kwargs):
        if block not in self.BLOCKS:
            raise ValueError(f'ResNetHead: block must be one of {sorted(self.BLOCKS)}, got {block!r}')
        if block == 'bottleneck' and in_channels % Bottleneck.expansion:
            raise ValueError(f'ResNetHead: a bottleneck needs a width divisible by '
                             f'{Bottleneck.expansion}, got {in_channels}')
        self.block = block
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        cls = self.BLOCKS[self.block]
        # width dim // expansion inside, dim out: the block keeps the width
        return cls(dim, dim // cls.expansion, drop_path=DropPath(drop_path) if drop_path > 0 else None)

    def remove_shortcut(self, block):
        # timm: shortcut = downsample(x) when downsample is set; x = act(F(x) + shortcut)
        block.downsample = NoShortcut()
        return block
