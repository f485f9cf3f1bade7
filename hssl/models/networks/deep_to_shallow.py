"""Deep-to-shallow supervision (SDSSL, Jang et al. WACV 2023; the "DTS" of Tab. XIX).

A related method, not HSSL: a component that a :class:`HeterogeneousNetwork`
takes as ``intermediate=dict(layers=None, weight=r, ramp='cosine')``. Every
chosen block's cls token, through the backbone's shared final norm, gets its
own projector (branch ``layer_<i>``) and one pair ``(target, (layer_<i>,),
r * ramp_t / n)`` whose target is the branch the final base output learns
from: the teacher's ``base`` output for a baseline, its auxiliary output
``aux`` with HSSL (the shallow layers learn what the last layer learns). The
terms are cls-level only.

The weight ramps with training progress t / T (SDSSL: by cosine from 0 to r),
read where the loss is computed (:meth:`SelfSupervisedAlgorithm.loss_terms`):

    ramp_t = (1 - cos(pi * t / T)) / 2        (``ramp='cosine'``; 1 with ``ramp=None``)
"""
import math
from typing import Dict, List, Optional, Sequence

from mmengine.model import BaseModule, ModuleDict
from torch import Tensor

from hssl.models.builder import build_component
from .depth import backbone_depth
from .pairs import Pair

RAMPS = (None, 'cosine')


def cosine_ramp(step: int, total_steps: int) -> float:
    """(1 - cos(pi * step / total)) / 2, clipped to [0, 1]."""
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return (1.0 - math.cos(math.pi * progress)) / 2.0


def check_layers(layers: Optional[Sequence[int]], num_blocks: int) -> List[int]:
    """The sorted block indices (None: all but the last), or one clear error."""
    where = 'HeterogeneousNetwork: intermediate.layers'
    layers = list(range(num_blocks - 1)) if layers is None else list(layers)
    for i in layers:
        if not isinstance(i, int) or not 0 <= i < num_blocks - 1:
            raise ValueError(f'{where}: {i!r} is not an intermediate block of a '
                             f'{num_blocks}-block backbone (0..{num_blocks - 2}; the last '
                             'is the output)')
    if not layers or len(set(layers)) != len(layers):
        raise ValueError(f'{where}: need distinct block indices, got {layers}')
    return sorted(layers)


def network_options(intermediate: dict, backbone: dict, num_heads: int,
                    projector: Optional[dict]) -> dict:
    """:class:`DeepToShallow`'s arguments from ``network.intermediate`` and the
    base model it taps (its number of blocks; the default projector)."""
    where = 'HeterogeneousNetwork: intermediate'
    unknown = set(intermediate) - {'layers', 'weight', 'projector', 'ramp'}
    if unknown:
        raise KeyError(f'{where} has no option(s) {sorted(unknown)}; its options: layers, '
                       'weight, ramp, projector')
    if num_heads > 1:
        raise ValueError(f'{where} (deep-to-shallow) needs one target branch; with several '
                         'auxiliary heads side by side there is one per head')
    if 'out_indices' in backbone:
        raise ValueError(f'{where} sets the backbone\'s out_indices; remove '
                         'network.backbone.out_indices')
    depth = backbone_depth(backbone)
    if depth is None:
        raise ValueError(f'{where}: deep-to-shallow needs one of hssl\'s ViT base models (its '
                         f'blocks\' cls tokens); {backbone.get("type")!r} gives no number of '
                         'blocks (arch)')
    options = dict(intermediate)
    options.setdefault('projector', projector)
    options['layers'] = check_layers(options.get('layers'), depth)
    return options


def previous_layout(state_dict, prefix, *args) -> None:
    """Checkpoints of the previous layout (hssl 0.1.0) keep the deep-to-shallow
    projectors among the network's projectors; they now live in the
    ``deep_to_shallow`` component."""
    old = prefix + 'projectors.layer_'
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[prefix + 'deep_to_shallow.' + key[len(prefix):]] = state_dict.pop(key)


class DeepToShallow(BaseModule):
    """Built by :class:`HeterogeneousNetwork` from :func:`network_options`. Args:
        in_channels: width of the base model's cls token.
        projector: projector config of every intermediate branch.
        layers: block indices, 0-based, sorted and checked (:func:`check_layers`).
        weight: r, the total weight of the intermediate terms.
        ramp: ``'cosine'`` (SDSSL) or None (constant weight r).
    """

    def __init__(self, in_channels: int, projector: Optional[dict], layers: Sequence[int],
                 weight: float = 1.0, ramp: Optional[str] = 'cosine', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        where = 'HeterogeneousNetwork: intermediate'
        if ramp not in RAMPS:
            raise ValueError(f'{where}.ramp must be one of {RAMPS}, got {ramp!r}')
        if projector is None:
            raise ValueError(f'{where}: every intermediate layer needs its own projector; give '
                             'network.projector or intermediate.projector')
        self.layers = list(layers)
        self.weight = float(weight)
        self.ramp = ramp
        self.projectors = ModuleDict({
            f'layer_{i}': build_component(projector, f'network.intermediate projector (layer_{i})',
                                          in_channels=in_channels)
            for i in self.layers})

    @property
    def branches(self) -> List[str]:
        return list(self.projectors)

    def weight_at(self, progress: Optional[Sequence[int]]) -> float:
        """r * ramp at ``progress`` = (iteration, total iterations); without a
        schedule (``ramp=None``) r. A ramp needs the progress."""
        if self.ramp is None:
            return self.weight
        if progress is None:
            raise RuntimeError('deep-to-shallow: the cosine ramp of the intermediate weight '
                               'needs the training progress (iter, max_iters), which the '
                               'runner provides; outside a runner pass progress=')
        return self.weight * cosine_ramp(*progress)

    def pairs(self, target: str, weight: float) -> List[Pair]:
        """One pair per intermediate branch, learning ``target``, ``weight`` / n each."""
        return [Pair(target, (branch,), weight / len(self.layers)) for branch in self.branches]

    def forward(self, inter_cls: Tensor, branches: Optional[Sequence[str]] = None
                ) -> Dict[str, Tensor]:
        """Projected cls tokens per branch from ``inter_cls`` (n, V * B, C), the
        backbone's normalised cls tokens of :attr:`layers` (of all views)."""
        return {b: self.projectors[b](inter_cls[k]) for k, b in enumerate(self.branches)
                if branches is None or b in branches}
