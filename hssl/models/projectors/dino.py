"""DINO / iBOT projection head.

3-layer MLP (GELU) -> bottleneck -> L2 normalisation -> weight-normalised
linear layer without bias (DINO, Caron et al. 2021). With ``norm_last_layer``
the weight-norm gain g is fixed to 1, so only the direction is learnt.

iBOT's head shares the MLP between cls and patch tokens; its last layer is
shared too (``shared_head=True``, the HSSL recipe) or, with
``patch_out_channels`` set, patch tokens get their own weight-normalised last
layer ``patch_last_layer`` of that width (iBOT's ``last_layer2``).
"""
from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

from hssl.models.backbones.vit import trunc_normal_init_
from hssl.registry import MODELS


@MODELS.register_module()
class DINOProjectionHead(BaseModule):

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 65536,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 num_layers: int = 3,
                 norm_last_layer: bool = True,
                 use_bn: bool = False,
                 patch_out_channels: Optional[int] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'DINOProjectionHead: num_layers must be >= 1, got {num_layers}')
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [bottleneck_channels]
        layers = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(d_in, d_out))
            if i < num_layers - 1:
                if use_bn:
                    layers.append(nn.BatchNorm1d(d_out))
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        self.last_layer = weight_norm(nn.Linear(bottleneck_channels, out_channels, bias=False))
        self.patch_last_layer = None if patch_out_channels is None else weight_norm(
            nn.Linear(bottleneck_channels, patch_out_channels, bias=False))
        self.norm_last_layer = norm_last_layer
        self.out_channels = out_channels
        self._reset_gain()

    def _reset_gain(self):
        for layer in (self.last_layer, self.patch_last_layer):
            if layer is not None:
                gain = layer.parametrizations.weight.original0
                gain.data.fill_(1.0)
                gain.requires_grad = not self.norm_last_layer

    def init_weights(self):
        super().init_weights()
        if self.init_cfg is None:  # DINOHead._init_weights; the last layer keeps torch's init
            trunc_normal_init_(self.mlp)
        self._reset_gain()

    def forward(self, x: Tensor, patch: bool = False) -> Tensor:
        """(..., C) -> (..., K): cls (B, C) or, with ``patch=True``, patch
        tokens (B, N, C); K is ``patch_out_channels`` for patches when set."""
        lead = x.shape[:-1]
        x = F.normalize(self.mlp(x.reshape(-1, x.shape[-1])), dim=-1, p=2)  # BN needs (M, C)
        last = self.patch_last_layer if patch and self.patch_last_layer is not None else self.last_layer
        return last(x).reshape(*lead, -1)
