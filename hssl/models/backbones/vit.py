"""Vision Transformer base model for HSSL.

A thin layer over mmpretrain's ``VisionTransformer`` (same parameter names, so
mmpretrain / mmseg / mmdet load its weights directly). What it adds:

* ``forward`` returns :class:`BackboneOutput`: the normalised cls token, the
  normalised patch tokens and the *pre-norm* patch tokens of the last block as
  a 2-D grid ``(B, C, h, w)``: the input of the auxiliary head (HSSL Sec. 3.1;
  the official code feeds the head the last block's tokens before the final
  norm, cls token dropped).
* an optional learnable mask token that replaces masked patch embeddings
  before the position embedding (iBOT / BEiT style).
* mmpretrain's ``out_indices``: the cls tokens of the listed blocks other than
  the last, through the shared final norm, in ``BackboneOutput.inter_cls``
  (deep-to-shallow / SDSSL supervision of intermediate layers), collected in
  the same pass over the blocks.
* presets named as in timm (tiny 192, small 384, base 768, large 1024).
"""
from typing import NamedTuple, Optional

import torch
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor, nn

from hssl.registry import MODELS

ARCHS = {
    'tiny': dict(embed_dims=192, num_layers=12, num_heads=3, feedforward_channels=768),
    'small': dict(embed_dims=384, num_layers=12, num_heads=6, feedforward_channels=1536),
    'base': dict(embed_dims=768, num_layers=12, num_heads=12, feedforward_channels=3072),
    'large': dict(embed_dims=1024, num_layers=24, num_heads=16, feedforward_channels=4096),
}


def trunc_normal_init_(module: nn.Module) -> None:
    """DINO / iBOT's ``_init_weights`` over every sub-module: Linear weights from a
    truncated normal (std 0.02), biases 0; LayerNorms (and their subclasses) 1, 0.
    Convolutions keep PyTorch's default initialisation."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class BackboneOutput(NamedTuple):
    """What a base model hands to projection and auxiliary heads."""
    cls: Tensor  # (B, C) normalised cls token
    patch: Tensor  # (B, N, C) normalised patch tokens
    grid: Tensor  # (B, C, h, w) last block's patch tokens before the final norm
    # (n, B, C) normalised cls tokens of the intermediate blocks in ``out_indices``
    # (None when only the last block is listed, the default)
    inter_cls: Optional[Tensor] = None


def _check_arch(arch) -> None:
    """Impossible sizes fail here, named, not deep inside mmpretrain or at the first step."""
    if not isinstance(arch, dict):
        return
    for key in ('embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'):
        value = arch.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f'ViT: arch.{key} must be an integer >= 1, got {value!r}')
    dims, heads = arch.get('embed_dims'), arch.get('num_heads')
    if dims and heads and dims % heads:
        raise ValueError(f'ViT: arch.num_heads={heads} does not divide arch.embed_dims={dims}')


@MODELS.register_module()
class ViT(VisionTransformer):
    """ViT returning :class:`BackboneOutput`.

    Args:
        arch: one of ``tiny | small | base | large`` or a dict with
            ``embed_dims, num_layers, num_heads, feedforward_channels``.
        img_size: the size the position embedding is made for; other input
            sizes (multi-crop) interpolate it.
        patch_size: e.g. 16 for 224 px images, 4 for 32 px images.
        use_mask_token: create a learnable mask token (iBOT).
        out_indices: blocks whose cls token is returned (0-based, negative
            from the end; mmpretrain's argument). The last block is always the
            output; the others, in ascending order, come as ``inter_cls``.
        **kwargs: mmpretrain ``VisionTransformer`` arguments
            (``drop_path_rate``, ``qkv_bias``, ``init_cfg``, ...).
    """

    def __init__(self,
                 arch='small',
                 img_size=224,
                 patch_size=16,
                 use_mask_token: bool = False,
                 out_indices=-1,
                 init_cfg=None,
                 **kwargs):
        if isinstance(arch, str):
            if arch not in ARCHS:
                raise ValueError(f'ViT: unknown arch "{arch}"; choose one of {sorted(ARCHS)} '
                                 'or give a dict with embed_dims, num_layers, num_heads, '
                                 'feedforward_channels')
            arch = ARCHS[arch]
        _check_arch(arch)
        for key in ('out_type', 'with_cls_token', 'final_norm'):
            if key in kwargs:
                raise ValueError(f'ViT: "{key}" is fixed by hssl (it returns cls, patch and the '
                                 'pre-norm grid of the last block); remove it from the config')
        if isinstance(img_size, int) and img_size % patch_size:
            raise ValueError(f'ViT: patch_size={patch_size} does not divide img_size={img_size}')
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            out_type='raw',
            out_indices=_check_out_indices(out_indices, arch),
            with_cls_token=True,
            final_norm=True,
            init_cfg=init_cfg,
            **kwargs)
        self.patch_size = patch_size
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims)) if use_mask_token else None

    @property
    def intermediate_indices(self):
        """The blocks of ``out_indices`` other than the last, ascending."""
        return sorted(set(self.out_indices) - {self.num_layers - 1})

    def init_weights(self):
        """DINO / iBOT's ViT initialisation (``VisionTransformer.__init__``): position
        embedding and cls token from a truncated normal (std 0.02), then
        :func:`trunc_normal_init_`; the patch embedding keeps PyTorch's default and
        the mask token (iBOT's ``masked_embed``) starts at 0. An ``init_cfg`` (e.g.
        ``Pretrained``) is mmengine's instead."""
        if self.init_cfg is not None:
            return super().init_weights()
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        trunc_normal_init_(self)
        if self.mask_token is not None:
            nn.init.zeros_(self.mask_token)
        self._is_init = True

    def train(self, mode: bool = True):
        super().train(mode)  # mmpretrain's returns None; nn.Module's contract is self
        return self

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> BackboneOutput:
        """``mask``: optional bool tensor (B, h, w), True where a patch is masked."""
        B, _, H, W = x.shape
        if H % self.patch_size or W % self.patch_size:
            raise ValueError(f'ViT: input of {H}x{W} px is not a multiple of patch_size={self.patch_size}')
        x, hw = self.patch_embed(x)
        if mask is not None:
            if self.mask_token is None:
                raise RuntimeError('ViT: a mask was given but the model has no mask token; '
                                   'build it with use_mask_token=True')
            mask = mask.flatten(1).unsqueeze(-1).to(x.dtype)
            x = x * (1 - mask) + self.mask_token.to(x.dtype) * mask
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + resize_pos_embed(self.pos_embed, self.patch_resolution, hw,
                                 mode=self.interpolate_mode, num_extra_tokens=self.num_extra_tokens)
        x = self.pre_norm(self.drop_after_pos(x))
        wanted, inter = self.intermediate_indices, []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in wanted:
                inter.append(x[:, 0])
        grid = x[:, 1:].transpose(1, 2).reshape(B, -1, *hw)
        x = self.ln1(x)
        inter_cls = self.ln1(torch.stack(inter)) if inter else None
        return BackboneOutput(cls=x[:, 0], patch=x[:, 1:], grid=grid, inter_cls=inter_cls)


def _check_out_indices(out_indices, arch: dict) -> list:
    """A fresh list of in-range block indices (mmpretrain changes the list in place)."""
    indices = [out_indices] if isinstance(out_indices, int) else list(out_indices)
    layers = arch.get('num_layers', 0)
    for index in indices:
        if not isinstance(index, int) or layers and not -layers <= index < layers:
            raise ValueError(f'ViT: out_indices entry {index!r} is not a block index of a '
                             f'{layers}-block model (0..{layers - 1} or negative from the end)')
    return indices
