"""ViT auxiliary head: timm's vision-transformer ``Block`` on the patch tokens.

Block: LayerNorm -> multi-head self-attention over all tokens (the token
mixer) -> residual; LayerNorm -> MLP C->4C->C (GELU) -> residual. The head adds
no position embedding: its input tokens already carry the base model's.
"""
from typing import Optional

from timm.models.vision_transformer import Block

from hssl.registry import MODELS
from .base import AuxiliaryHead


class BlockWithoutFirstShortcut(Block):
    """timm's ``Block`` without the attention residual: ``y = attn(norm1(x))``,
    then ``y + mlp(norm2(y))`` (the MLP residual stays)."""

    def forward(self, x, attn_mask=None, is_causal=False):
        x = self.drop_path1(self.ls1(self.attn(self.norm1(x), attn_mask=attn_mask, is_causal=is_causal)))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


def heads_for(dim: int, num_heads: Optional[int], head_dim: int, owner: str) -> int:
    """``num_heads``, or ``dim // head_dim`` (at least 1) when it is None."""
    if num_heads is None:
        num_heads = max(1, dim // head_dim)
    if dim % num_heads:
        raise ValueError(f'{owner}: width {dim} is not divisible by num_heads={num_heads}')
    return num_heads


@MODELS.register_module()
class ViTHead(AuxiliaryHead):
    """Args (beyond :class:`AuxiliaryHead`'s):
        num_heads: attention heads; None (default) derives it from the width
            as ``width // head_dim``: 3 / 6 / 12 heads at 192 / 384 / 768.
        head_dim: channels per attention head when ``num_heads`` is None (64,
            as ViT-S/B).
        mlp_ratio: hidden width of the MLP as a multiple of the width.
        qkv_bias: bias in the query/key/value projection (True, as ViT).
        layer_scale_init_value: timm's layer scale (``init_values``); None
            (default) disables it.

    ``first_shortcut=False`` removes the first block's attention residual.
    """
    layout = 'nlc'

    def __init__(self, in_channels: int, num_heads: Optional[int] = None, head_dim: int = 64,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 layer_scale_init_value: Optional[float] = None, **kwargs):
        self.num_heads = heads_for(in_channels, num_heads, head_dim, 'ViTHead')
        self.mlp_ratio = mlp_ratio
        self.qkv_bias = qkv_bias
        self.layer_scale_init_value = layer_scale_init_value
        super().__init__(in_channels, **kwargs)

    def build_block(self, index, dim, drop_path):
        return Block(dim, self.num_heads, mlp_ratio=self.mlp_ratio, qkv_bias=self.qkv_bias,
                     init_values=self.layer_scale_init_value, drop_path=drop_path)

    def remove_shortcut(self, block):
        # same modules and weights; only forward changes
        if type(block) is not Block:
            raise TypeError(f'ViTHead.remove_shortcut expects a timm Block, got {type(block).__name__}')
        block.__class__ = BlockWithoutFirstShortcut
        return block
