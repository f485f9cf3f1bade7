"""ViT for MoCo v3 (Chen, Xie & He, 2021, "An Empirical Study of Training
Self-Supervised Vision Transformers", Sec. 4 and facebookresearch/moco-v3
``vits.py``; mmpretrain's ``MoCoV3ViT`` does the same for its own ViT).

Differences from :class:`~hssl.models.backbones.ViT` (whose forward and output
it keeps):

* a fixed 2-D sin-cos position embedding (not learnt; the cls position is 0);
* a random, *frozen* patch embedding (``stop_grad_conv1``: MoCo v3's fix for
  the training instability of ViTs), Xavier-uniform over the flattened patch;
* MoCo v3's initialisation: Xavier-uniform linear layers with q, k, v treated
  as three matrices, zero biases, cls token N(0, 1e-6).
"""
import math

from mmpretrain.models.utils import build_2d_sincos_position_embedding
from torch import nn

from hssl.registry import MODELS
from .vit import ViT


def fix_sincos_pos_embed(vit: ViT) -> None:
    """Set ``vit.pos_embed`` to the fixed 2-D sin-cos embedding of its patch
    grid (cls position all zeros) and stop its gradient (MoCo v3, MAE)."""
    pos = build_2d_sincos_position_embedding(vit.patch_resolution, vit.embed_dims, cls_token=True)
    vit.pos_embed.data.copy_(pos.to(vit.pos_embed.dtype))
    vit.pos_embed.requires_grad = False


def _is_pretrained(init_cfg) -> bool:
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


@MODELS.register_module()
class MoCoV3ViT(ViT):
    """Args (beyond :class:`ViT`'s):
        stop_grad_conv1: freeze the (randomly initialised) patch embedding.

    MoCo v3's ViT-S has 12 heads: ``arch=dict(embed_dims=384, num_layers=12,
    num_heads=12, feedforward_channels=1536)``.
    """

    def __init__(self, *args, stop_grad_conv1: bool = True, init_cfg=None, **kwargs):
        super().__init__(*args, init_cfg=init_cfg, **kwargs)
        self.stop_grad_conv1 = stop_grad_conv1
        fix_sincos_pos_embed(self)
        if stop_grad_conv1:
            for p in self.patch_embed.parameters():
                p.requires_grad = False

    def init_weights(self):
        super().init_weights()
        if _is_pretrained(self.init_cfg):
            return
        fix_sincos_pos_embed(self)
        conv = self.patch_embed.projection
        # Xavier-uniform of the flattened patch: fan_in = 3 p^2, fan_out = width
        bound = math.sqrt(6.0 / float(conv.weight[0].numel() + self.embed_dims))
        nn.init.uniform_(conv.weight, -bound, bound)
        nn.init.zeros_(conv.bias)
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear):
                if 'qkv' in name:  # q, k and v as separate matrices
                    bound = math.sqrt(6.0 / float(m.weight.shape[0] // 3 + m.weight.shape[1]))
                    nn.init.uniform_(m.weight, -bound, bound)
                else:
                    nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.cls_token, std=1e-6)
