"""ConvNeXt auxiliary head: timm's ``ConvNeXtBlock`` on the token grid.

Block: depthwise 7x7 conv -> LayerNorm over channels -> Linear C->4C -> GELU
-> Linear 4C->C, plus the identity shortcut (the paper's default head).
``structure`` (Tab. XV): ``'token_mixer'`` keeps the depthwise conv and the
LayerNorm (the MLP becomes the identity), ``'mlp'`` keeps the LayerNorm and
the MLP (the depthwise conv becomes the identity); the shortcut stays as set.
"""
from typing import Optional

from timm.models.convnext import ConvNeXtBlock
from torch import nn

from hssl.registry import MODELS
from .base import AuxiliaryHead, NoShortcut


@MODELS.register_module()
class ConvNeXtHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        kernel_size: depthwise kernel, 7 as in ConvNeXt.
        mlp_ratio: hidden width of the MLP as a multiple of the width.
        layer_scale_init_value: timm's layer scale; None (default) disables
            it, as in the HSSL code's block.
    """
    layout = 'nchw'

    def __init__(self, in_channels: int, kernel_size: int = 7, mlp_ratio: float = 4.0,
                 layer_scale_init_value: Optional[float] = None, **kwargs):
        self.kernel_size = kernel_size
        self.mlp_ratio = mlp_ratio
        self.layer_scale_init_value = layer_scale_init_value
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        return ConvNeXtBlock(dim, kernel_size=self.kernel_size, mlp_ratio=self.mlp_ratio,
                             ls_init_value=self.layer_scale_init_value, drop_path=drop_path)

    def remove_shortcut(self, block):
        block.shortcut = NoShortcut()  # timm computes drop_path(F(x)) + shortcut(x)
        return block

    def keep_only(self, block, part):
        # timm: x = mlp(norm(conv_dw(x))) (gamma, drop path), then + shortcut(x)
        if part == 'token_mixer':
            block.mlp = nn.Identity()
        else:
            block.conv_dw = nn.Identity()
        return block
