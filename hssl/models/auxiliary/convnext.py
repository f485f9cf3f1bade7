"""ConvNeXt auxiliary head: timm's ``ConvNeXtBlock`` on the token grid.

Block: depthwise 7x7 conv -> LayerNorm over channels -> Linear C->4C -> GELU
-> Linear 4C->C, plus the identity shortcut (the paper's default head).
"""
from typing import Optional

from timm.models.convnext import ConvNeXtBlock

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
