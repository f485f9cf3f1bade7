"""ViT for MAE (He et al., 2022): the encoder sees only the visible patches.

``forward(x, mask)`` with a bool ``mask`` (B, h, w), True where a patch is
masked, the same number per image (MAE's random masking), drops the masked
patch embeddings after the (fixed sin-cos) position embedding and runs the
blocks on cls + visible tokens only. It returns

* ``cls``: the normalised cls token;
* ``patch``: the normalised *visible* tokens (B, N_visible, C), in raster
  order (what MAE's decoder takes);
* ``grid``: for an HSSL auxiliary head, which needs every position of the
  grid, the pre-norm visible tokens scattered back into (B, C, h, w) with the
  masked positions filled as ``grid_fill`` says: ``'mask_token'`` (a learnt
  token, as MAE's decoder fills them) or ``'zeros'``; None when
  ``grid_fill`` is None (no auxiliary head: no unused parameter).

Without a mask it is the plain :class:`ViT` (k-NN, fine-tuning). The
initialisation follows MAE's ``models_mae.py`` (mmpretrain's ``MAEViT`` does
the same): fixed sin-cos position embedding, Xavier-uniform patch embedding
and linear layers, cls token N(0, 0.02).
"""
from typing import Optional

import torch
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor, nn

from hssl.registry import MODELS
from .mocov3_vit import _is_pretrained, fix_sincos_pos_embed
from .vit import BackboneOutput, ViT

MAE_INIT = [
    dict(type='Xavier', layer='Linear', distribution='uniform'),
    dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
]
GRID_FILLS = (None, 'mask_token', 'zeros')


def visible_indices(mask: Tensor) -> Tensor:
    """(B, N) bool mask -> (B, N_visible) indices of the unmasked patches, ascending.

    Raises if the images do not have the same number of masked patches.
    """
    counts = mask.sum(dim=1)
    if (counts != counts[0]).any():
        raise ValueError('MAEViT: every image needs the same number of masked patches, got '
                         f'{sorted(set(counts.tolist()))}')
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)  # visible first, ascending
    return order[:, :mask.shape[1] - int(counts[0])]


@MODELS.register_module()
class MAEViT(ViT):
    """Args (beyond :class:`ViT`'s):
        grid_fill: how masked positions of ``grid`` are filled (see above).
            :class:`~hssl.models.algorithms.MAE` sets it from its
            ``aux_input`` (:meth:`set_grid_fill`) when the network's heads
            read the grid.
    """

    def __init__(self, *args, grid_fill: Optional[str] = None, init_cfg=MAE_INIT, **kwargs):
        super().__init__(*args, init_cfg=init_cfg, **kwargs)
        self.grid_mask_token = None
        self.set_grid_fill(grid_fill)
        fix_sincos_pos_embed(self)

    def set_grid_fill(self, grid_fill: Optional[str]) -> None:
        """Fill the masked positions of ``grid`` this way from now on (a
        ``'mask_token'`` fill adds its learnt token, initialised by
        :meth:`init_weights`)."""
        if grid_fill not in GRID_FILLS:
            raise ValueError(f'MAEViT: grid_fill must be one of {GRID_FILLS}, got {grid_fill!r}')
        self.grid_fill = grid_fill
        self.grid_mask_token = (nn.Parameter(torch.zeros(1, self.embed_dims, 1))
                                if grid_fill == 'mask_token' else None)

    def init_weights(self):
        super().init_weights()
        if _is_pretrained(self.init_cfg):
            return
        fix_sincos_pos_embed(self)
        w = self.patch_embed.projection.weight
        nn.init.xavier_uniform_(w.data.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        if self.grid_mask_token is not None:
            nn.init.normal_(self.grid_mask_token, std=0.02)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> BackboneOutput:
        if mask is None:
            return super().forward(x)
        B, _, H, W = x.shape
        x, hw = self.patch_embed(x)
        if mask.shape != (B, *hw):
            raise ValueError(f'MAEViT: mask of shape {tuple(mask.shape)} for {B} images of '
                             f'{hw[0]}x{hw[1]} patches')
        pos = resize_pos_embed(self.pos_embed, self.patch_resolution, hw,
                               mode=self.interpolate_mode, num_extra_tokens=self.num_extra_tokens)
        keep = visible_indices(mask.flatten(1))
        x = torch.gather(x + pos[:, 1:], 1, keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        x = torch.cat(((self.cls_token + pos[:, :1]).expand(B, -1, -1), x), dim=1)
        x = self.pre_norm(self.drop_after_pos(x))
        for layer in self.layers:
            x = layer(x)
        grid = None if self.grid_fill is None else self._fill_grid(x[:, 1:], keep, hw)
        x = self.ln1(x)
        return BackboneOutput(cls=x[:, 0], patch=x[:, 1:], grid=grid)

    def _fill_grid(self, visible: Tensor, keep: Tensor, hw) -> Tensor:
        B, _, C = visible.shape
        n = hw[0] * hw[1]
        if self.grid_mask_token is not None:
            grid = self.grid_mask_token.to(visible.dtype).expand(B, C, n)
        else:
            grid = visible.new_zeros(B, C, n)
        grid = grid.scatter(2, keep.unsqueeze(1).expand(-1, C, -1), visible.transpose(1, 2))
        return grid.reshape(B, C, *hw)
