"""PoolFormer auxiliary head: timm's ``MetaFormerBlock`` with the ``Pooling`` mixer.

Block (PoolFormer v1 as in timm's ``poolformer_s12``): GroupNorm(1 group) ->
token mixer ``avgpool3x3(x) - x`` -> residual; GroupNorm -> 1x1 conv C->4C ->
GELU -> 1x1 conv 4C->C -> residual. The token mixer has no weights.

``remove_shortcut`` replaces ``res_scale1``, the module timm applies to the
token mixer's shortcut, with :class:`NoShortcut`: the first block computes
``y = pool(n) - n`` with ``n = norm1(z)``, then ``y + mlp(norm2(y))``.
"""
from typing import Optional

from timm.layers import GroupNorm1
from timm.models.metaformer import MetaFormerBlock, Pooling
from torch import nn

from hssl.registry import MODELS
from .base import AuxiliaryHead, NoShortcut


@MODELS.register_module()
class PoolFormerHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        pool_size: average-pooling window of the token mixer (stride 1, padded,
            padding not counted), 3 as in PoolFormer.
        layer_scale_init_value: timm's layer scale; None (default) disables it,
            as in the ConvNeXt head (PoolFormer itself uses 1e-5).
    """
    layout = 'nchw'

    def __init__(self, in_channels: int, pool_size: int = 3,
                 layer_scale_init_value: Optional[float] = None, **kwargs):
        self.pool_size = pool_size
        self.layer_scale_init_value = layer_scale_init_value
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        return MetaFormerBlock(dim, token_mixer=Pooling, mlp_act=nn.GELU, mlp_bias=True,
                               norm_layer=GroupNorm1, drop_path=drop_path,
                               layer_scale_init_value=self.layer_scale_init_value,
                               pool_size=self.pool_size)

    def remove_shortcut(self, block):
        # timm: x = res_scale1(x) + layer_scale1(drop_path1(token_mixer(norm1(x))))
        block.res_scale1 = NoShortcut()
        return block
