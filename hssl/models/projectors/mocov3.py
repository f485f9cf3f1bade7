"""MoCo v3's projector and predictor MLPs (``_build_mlp`` in
facebookresearch/moco-v3 ``moco/builder.py``), as mmpretrain's
``NonLinearNeck``: Linear (no bias) -> BN -> ReLU, repeated, then Linear and,
where ``with_last_bn``, a BN (affine-free in MoCo v3's projector).

* projector (a network branch's projection head): ``num_layers=3``,
  hidden 4096, out 256, ``with_last_bn_affine=False``;
* predictor (student side only, one per student branch): ``num_layers=2``,
  hidden 4096, out 256, also ending with an affine-free BN (MoCo v3's ViT
  predictor is ``_build_mlp(2, ...)``, the same builder).

``norm_cfg``: ``dict(type='SyncBN')`` for multi-GPU runs (MoCo v3 converts
its BNs to SyncBN; on one process it acts as BN), ``dict(type='BN1d')`` on
the CPU (SyncBN needs GPUs when a process group exists).
"""
from mmpretrain.models.necks import NonLinearNeck
from torch import Tensor

from hssl.registry import MODELS


@MODELS.register_module()
class MoCoV3MLP(NonLinearNeck):
    """``NonLinearNeck`` on (B, C) tensors, as a branch projector or predictor.

    Args: those of ``NonLinearNeck`` (``with_avg_pool`` is fixed to False);
    ``in_channels`` is filled in by the network (projector) or the algorithm
    (predictor).
    """

    def __init__(self, in_channels: int, hid_channels: int = 4096, out_channels: int = 256,
                 num_layers: int = 3, with_last_bn: bool = True,
                 with_last_bn_affine: bool = False, norm_cfg: dict = dict(type='SyncBN'),
                 **kwargs):
        super().__init__(in_channels, hid_channels, out_channels, num_layers=num_layers,
                         with_bias=False, with_last_bn=with_last_bn,
                         with_last_bn_affine=with_last_bn_affine, with_last_bias=False,
                         with_avg_pool=False, norm_cfg=norm_cfg, **kwargs)
        self.out_channels = out_channels

    def forward(self, x: Tensor, patch: bool = False) -> Tensor:
        if patch:
            raise ValueError('MoCoV3MLP projects cls tokens only (num_patch_views=0)')
        return super().forward((x, ))[0]
