"""Several auxiliary heads as one (HSSL Eq. 9-10, Tab. III).

Every inner head runs on the same grid; their outputs are concatenated along
the channels, ``z^hc = concat(h^1(z), ..., h^n(z))``, and the concatenation is
the auxiliary branch of Eq. 1 (one projector of input width sum of the inner
widths). For heads trained side by side instead (the search, Eq. 6-7), give
``network.auxiliary`` a list of head configs.
"""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from hssl.models.builder import build_component
from hssl.registry import MODELS
from .base import AuxiliaryOutput


@MODELS.register_module()
class ConcatHeads(BaseModule):
    """Args:
        in_channels: width of the base model's tokens (filled in by the network).
        heads: configs of the inner heads (e.g. ``dict(type='ConvNeXtHead')``
            and ``dict(type='ResMLPHead')``); each is built with
            ``in_channels`` and keeps its own options, blocks and norm.
        depth, first_shortcut: defaults for the inner heads whose config does
            not set them (None: each head's own default).
        drop_path_rate: passed to inner heads whose config sets none. A float
            is used as is (each head spreads it over its own blocks). A list
            (what :class:`HeterogeneousNetwork` sets when the base model has
            drop path: the last rates of ``linspace(0, r, L + depth)``) is
            continued to each inner head's depth: the head's last block gets
            the last rate, earlier blocks step down by the list's step.

    Output: ``cls`` is the concatenation of the inner (normalised) cls
    tokens, ``patch`` of the inner patch tokens; :attr:`out_channels` is the
    sum of the inner widths.
    """
    continues_drop_path = True

    def __init__(self, in_channels: int, heads: Sequence[dict], depth: Optional[int] = None,
                 first_shortcut: Optional[bool] = None,
                 drop_path_rate: Union[None, float, Sequence[float]] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not heads:
            raise ValueError('ConcatHeads: heads is empty')
        built = []
        for i, cfg in enumerate(heads):
            cfg = dict(cfg)
            for key, value in (('depth', depth), ('first_shortcut', first_shortcut)):
                if value is not None:
                    cfg.setdefault(key, value)
            if drop_path_rate is not None and 'drop_path_rate' not in cfg:
                cfg['drop_path_rate'] = self._rates_for(drop_path_rate, cfg)
            built.append(build_component(cfg, f'ConcatHeads.heads[{i}]', in_channels=in_channels))
        self.heads = nn.ModuleList(built)
        self.in_channels = in_channels

    @staticmethod
    def _rates_for(rate, cfg) -> Union[float, List[float]]:
        if isinstance(rate, (int, float)):
            return float(rate)
        rates = [float(r) for r in rate]
        depth = cfg.get('depth', 3)
        if len(rates) == depth:
            return rates
        step = rates[-1] - rates[-2] if len(rates) > 1 else 0.0
        return [max(0.0, rates[-1] - step * (depth - 1 - j)) for j in range(depth)]

    @property
    def out_channels(self) -> int:
        return sum(getattr(h, 'out_channels', self.in_channels) for h in self.heads)

    def forward(self, grid: Tensor) -> AuxiliaryOutput:
        outs = [head(grid) for head in self.heads]
        return AuxiliaryOutput(cls=torch.cat([o.cls for o in outs], dim=-1),
                               patch=torch.cat([o.patch for o in outs], dim=-1))
