"""HSSL as one mechanism: a base model, its projector, and auxiliary heads.

Every algorithm (DINO, iBOT, ...) holds a student :class:`HeterogeneousNetwork`
and, where it has one, an EMA teacher copy of it. The network computes the
projected outputs of its *branches* and says which teacher branch each student
branch learns from (:attr:`pairs`). An algorithm loss then is, for its own
loss function L:

    sum over (target, predictions, weight) in pairs:
        weight * sum_p L(teacher[target], student[p])

* No auxiliary head: one branch ``base``, pairs ``[(base, [base], 1)]``: the
  plain baseline, unchanged.
* One auxiliary head (or several concatenated into one, Eq. 9-10): branches
  ``base`` and ``aux``, pairs ``[(aux, [base, aux], 1)]``:
  L = L(z1^h, z2^b) + L(z1^h, z2^h)  (Eq. 1).
* A list of heads side by side (the search, Eq. 6-7): for head i the base
  model has its own projector ``base_<i>``; pairs
  ``[(aux_<i>, [base_<i>, aux_<i>], 1/n) for each i]``, so the total is the
  mean over heads of Eq. 6.

Base and auxiliary outputs keep separate projection heads (Tab. XVI);
``share_last_layer`` shares the weight-normalised last layer between them, as
the official code does.

The loss terms of the branches that learn one target are averaged
(``reduction='mean'``, the default): the HSSL code's ``PretrainLoss`` computes
0.5 L(z1^h, z2^b) + 0.5 L(z1^h, z2^h), and with iBOT 0.5 (patch_b + patch_h)
at patch level. ``reduction='sum'`` is Eq. 1 as printed (twice the HSSL
gradients). :meth:`loss_terms` turns pairs into weighted terms.

Deep-to-shallow supervision (SDSSL, Jang et al. WACV 2023; the "DTS" of
Tab. XIX), ``intermediate=dict(layers=None, weight=r)``: every chosen block's
cls token, through the backbone's shared final norm, gets its own projector
(branch ``layer_<i>``) and one pair ``(target, (layer_<i>,), r / n)`` whose
target is the branch the final base output learns from: the teacher's final
``base`` output for the baseline, its auxiliary output ``aux`` with HSSL (so
with both, the shallow layers learn what the last layer learns). The terms
are cls-level only; :attr:`hssl_pairs` are the pairs without them. The weight
is scaled by :attr:`intermediate_ramp` (1 unless ``DeepToShallowHook`` ramps
it from 0).
"""
import copy
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleDict
from torch import Tensor, nn

from hssl.models.backbones.vit import ARCHS
from hssl.models.builder import build_component
from hssl.registry import MODELS


class BranchOutput(NamedTuple):
    cls: Tensor  # (V * B, K): projected cls tokens of all views, view-major
    patch: Optional[Tensor]  # (P * B, N, K) projected patch tokens of the first P views


def group_by_resolution(views: Sequence[Tensor]) -> List[Tuple[int, int]]:
    """[start, end) index ranges of consecutive views of equal size.

    Views of one size go through the model in one batch (DINO's
    MultiCropWrapper): 2 globals + n locals make 2 forward passes.
    """
    groups, start = [], 0
    for i in range(1, len(views) + 1):
        if i == len(views) or views[i].shape[-2:] != views[start].shape[-2:]:
            groups.append((start, i))
            start = i
    return groups


@MODELS.register_module()
class HeterogeneousNetwork(BaseModule):
    """Args:
        backbone: the base model config (e.g. ``dict(type='ViT', ...)``); it
            returns cls, patch and the pre-norm grid (``BackboneOutput``).
        projector: projection head config for the base model; its
            ``in_channels`` is filled in from the backbone width. None: the
            branches output their tokens unprojected (MAE, whose per-branch
            decoders live in the algorithm and need the visible tokens).
        auxiliary: None (baseline), one auxiliary head config, or a list of
            configs trained side by side (each may carry a ``name``).
        aux_projector: projection head config for auxiliary outputs; defaults
            to a copy of ``projector``.
        share_last_layer: share the projector's ``last_layer`` (and
            ``patch_last_layer`` where there is one) between the base and
            auxiliary projectors of a pair.
        reduction: ``'mean'`` or ``'sum'`` over the predictions of one target
            (see above).
        intermediate: deep-to-shallow supervision (see above), a dict with
            ``layers`` (block indices, 0-based; None: all but the last),
            ``weight`` (r, default 1.0) and optionally ``projector`` (the
            intermediate projector config; default: ``projector``'s).
    """

    def __init__(self,
                 backbone: dict,
                 projector: Optional[dict] = None,
                 auxiliary: Union[None, dict, Sequence[dict]] = None,
                 aux_projector: Optional[dict] = None,
                 share_last_layer: bool = False,
                 reduction: str = 'mean',
                 intermediate: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if reduction not in ('mean', 'sum'):
            raise ValueError(f'HeterogeneousNetwork: reduction must be "mean" (the HSSL code) '
                             f'or "sum" (Eq. 1 as printed), got {reduction!r}')
        self.reduction = reduction
        aux_cfgs = self._name_heads(auxiliary)
        backbone = _continue_drop_path(backbone, aux_cfgs)
        inter = _intermediate_layers(intermediate, backbone, aux_cfgs, projector)
        if inter:
            backbone = dict(backbone, out_indices=inter + [-1])
        self.backbone = build_component(backbone, 'network.backbone')
        width = self.backbone.embed_dims
        aux_projector = aux_projector if aux_projector is not None else projector

        self.aux_heads = ModuleDict({
            n: build_component(cfg, f'network.auxiliary ({n})', in_channels=width)
            for n, cfg in aux_cfgs.items()})
        self.projectors = ModuleDict()
        self.hssl_pairs: List[Tuple[str, Tuple[str, ...], float]] = []
        self._source: Dict[str, str] = {}  # branch -> 'backbone' or an aux head name
        if not aux_cfgs:
            self._add_branch('base', 'backbone', projector, width)
            self.hssl_pairs.append(('base', ('base',), 1.0))
        for name in aux_cfgs:
            base = 'base' if name == 'aux' else name.replace('aux', 'base', 1)
            self._add_branch(base, 'backbone', projector, width)
            head_width = getattr(self.aux_heads[name], 'out_channels', width)
            self._add_branch(name, name, aux_projector, head_width)
            if share_last_layer and projector is not None:
                for layer in ('last_layer', 'patch_last_layer'):
                    if getattr(self.projectors[base], layer, None) is not None:
                        setattr(self.projectors[name], layer, getattr(self.projectors[base], layer))
            self.hssl_pairs.append((name, (base, name), 1.0 / len(aux_cfgs)))

        # deep-to-shallow: branch layer_<i> learns the target of the final base output
        self.intermediate_branches = [f'layer_{i}' for i in inter]
        self.intermediate_weight = float(intermediate.get('weight', 1.0)) if inter else 0.0
        self.intermediate_ramp = 1.0  # fraction of the weight in force (DeepToShallowHook)
        self.with_intermediate = True  # False: forward skips them (the EMA teacher)
        inter_projector = (intermediate or {}).get('projector', projector)
        for branch in self.intermediate_branches:
            self.projectors[branch] = build_component(
                inter_projector, f'network.intermediate projector ({branch})', in_channels=width)

    @property
    def pairs(self) -> List[Tuple[str, Tuple[str, ...], float]]:
        """[(target, predictions, weight)]: :attr:`hssl_pairs`, then one
        deep-to-shallow pair per intermediate branch, weight r * ramp / n."""
        if not self.intermediate_branches:
            return list(self.hssl_pairs)
        target = self.hssl_pairs[0][0]
        weight = self.intermediate_weight * self.intermediate_ramp / len(self.intermediate_branches)
        return self.hssl_pairs + [(target, (b,), weight) for b in self.intermediate_branches]

    def loss_terms(self, pairs: Optional[Sequence] = None) -> List[Tuple[str, str, float]]:
        """[(target, prediction branch, weight)] of ``pairs`` (default :attr:`pairs`):
        with ``reduction='mean'`` a pair's weight is shared by its predictions."""
        terms = []
        for target, predictions, weight in (self.pairs if pairs is None else pairs):
            if self.reduction == 'mean':
                weight = weight / len(predictions)
            terms.extend((target, branch, weight) for branch in predictions)
        return terms

    def init_weights(self):
        """Initialise the backbone from the seed itself, then the rest.

        Building the heads and projectors draws random numbers, so without this a
        baseline and its HSSL variant built with one seed would start from different
        backbones, and a comparison at equal seed would compare initialisations too.
        """
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(torch.initial_seed())
            self.backbone.init_weights()
        super().init_weights()  # skips the backbone, already initialised

    @staticmethod
    def _name_heads(auxiliary) -> Dict[str, dict]:
        if auxiliary is None:
            return {}
        if isinstance(auxiliary, dict):
            return {'aux': dict(auxiliary)}
        heads = {}
        for i, cfg in enumerate(auxiliary):
            cfg = dict(cfg)
            name = 'aux_' + str(cfg.pop('name', i))
            if name in heads:
                raise ValueError(f'HeterogeneousNetwork: two auxiliary heads are named "{name[4:]}"')
            heads[name] = cfg
        return heads

    def _add_branch(self, branch: str, source: str, cfg: Optional[dict], width: int) -> None:
        if cfg is not None:
            self.projectors[branch] = build_component(cfg, f'network projector ({branch})',
                                                      in_channels=width)
        self._source[branch] = source

    def forward(self,
                views: Sequence[Tensor],
                masks: Optional[Sequence[Optional[Tensor]]] = None,
                num_patch_views: int = 0,
                patch_branches: Optional[Sequence[str]] = None,
                branches: Optional[Sequence[str]] = None) -> Dict[str, BranchOutput]:
        """Project every view through every branch (or the given ``branches``).

        Args:
            views: images, views of equal size consecutive (globals first).
            masks: optional per-view patch masks (B, h, w) for the backbone.
            num_patch_views: also project the patch tokens of the first
                ``num_patch_views`` views (iBOT); 0 for cls only (DINO).
            patch_branches: the branches whose patches are projected (None:
                all); the others get ``patch=None``.
            branches: the branches to compute (None: all); an auxiliary head
                that none of them needs does not run. The EMA teacher only
                needs the pairs' targets: with HSSL its base projector (and,
                for DINO, nothing of the base branch but the backbone) is
                skipped.
        """
        if branches is not None:
            unknown = set(branches) - set(self._source)
            if unknown:
                raise KeyError(f'HeterogeneousNetwork: no branch {sorted(unknown)}; '
                               f'branches: {sorted(self._source)}')
        wanted_branches = [b for b in self._source if branches is None or b in branches]
        sources = {self._source[b] for b in wanted_branches}
        feats = {'backbone': ([], [])}
        feats.update({name: ([], []) for name in self.aux_heads})
        inter = []  # per group (n, B_group, C): intermediate cls tokens
        for start, end in group_by_resolution(views):
            images = torch.cat(list(views[start:end]))
            group_masks = [] if masks is None else [m for m in masks[start:end] if m is not None]
            if group_masks:  # views without a mask are unmasked
                blank = torch.zeros_like(group_masks[0])
                mask = torch.cat([blank if m is None else m for m in masks[start:end]])
                out = self.backbone(images, mask=mask)
            else:
                out = self.backbone(images)
            with_patch = start < num_patch_views
            _append(feats['backbone'], out.cls, out.patch if with_patch else None)
            if self.intermediate_branches:
                if out.inter_cls is None:
                    raise RuntimeError(f'HeterogeneousNetwork: intermediate is set but '
                                       f'{type(self.backbone).__name__} returned no intermediate '
                                       'cls tokens (inter_cls); it needs out_indices support')
                inter.append(out.inter_cls)
            for name, head in self.aux_heads.items():
                if name not in sources:
                    continue
                aux = head(out.grid)
                _append(feats[name], aux.cls, aux.patch if with_patch else None)

        batch = views[0].shape[0]
        outputs = {}
        for branch in wanted_branches:
            cls, patch = feats[self._source[branch]]
            wanted = num_patch_views and (patch_branches is None or branch in patch_branches)
            patch = torch.cat(patch)[:num_patch_views * batch] if wanted else None
            cls = torch.cat(cls)
            if branch in self.projectors:
                proj = self.projectors[branch]
                cls, patch = proj(cls), proj(patch, patch=True) if patch is not None else None
            outputs[branch] = BranchOutput(cls=cls, patch=patch)
        if self.intermediate_branches and self.with_intermediate:
            inter = torch.cat(inter, dim=1)
            for k, branch in enumerate(self.intermediate_branches):
                outputs[branch] = BranchOutput(cls=self.projectors[branch](inter[k]), patch=None)
        return outputs


def _append(store, cls, patch):
    store[0].append(cls)
    if patch is not None:
        store[1].append(patch)


def _continue_drop_path(backbone: dict, aux_cfgs: Dict[str, dict]) -> dict:
    """Drop path over base + auxiliary depth, the heads taking the largest rates.

    With rates linspace(0, r, L + D) over the L base blocks and D head blocks
    (as in the HSSL code), the base keeps the first L rates (its own
    ``drop_path_rate`` becomes r (L - 1) / (L + D - 1)) and a head the last D.
    Applies to heads whose config sets no ``drop_path_rate``; D is the
    deepest such head's depth. Changes ``aux_cfgs`` in place and returns the
    backbone config to build.
    """
    backbone = copy.deepcopy(backbone)
    rate = backbone.get('drop_path_rate', 0.0)
    layers = _backbone_depth(backbone)
    todo = [n for n, cfg in aux_cfgs.items() if 'drop_path_rate' not in cfg]
    if not rate or not layers or not todo:
        return backbone
    for name in todo:
        depth = aux_cfgs[name].get('depth', 3)
        aux_cfgs[name]['drop_path_rate'] = torch.linspace(0, rate, layers + depth).tolist()[layers:]
    deepest = max(aux_cfgs[n].get('depth', 3) for n in todo)
    backbone['drop_path_rate'] = rate * (layers - 1) / (layers + deepest - 1)
    return backbone


def _backbone_depth(backbone: dict) -> Optional[int]:
    """Number of blocks of a ViT config (None if its arch is unknown)."""
    arch = backbone.get('arch', 'small')
    return (ARCHS.get(arch) or {}).get('num_layers') if isinstance(arch, str) else arch.get('num_layers')


def _intermediate_layers(intermediate: Optional[dict], backbone: dict, aux_cfgs: Dict[str, dict],
                         projector: Optional[dict]) -> List[int]:
    """The validated, sorted block indices of the deep-to-shallow branches ([] when off)."""
    if intermediate is None:
        return []
    where = 'HeterogeneousNetwork: intermediate'
    unknown = set(intermediate) - {'layers', 'weight', 'projector'}
    if unknown:
        raise KeyError(f'{where} has no option(s) {sorted(unknown)}; its options: layers, '
                       'weight, projector')
    if len(aux_cfgs) > 1:
        raise ValueError(f'{where} (deep-to-shallow) needs one target branch; with several '
                         'auxiliary heads side by side there is one per head')
    if intermediate.get('projector', projector) is None:
        raise ValueError(f'{where}: every intermediate layer needs its own projector; give '
                         'network.projector or intermediate.projector')
    if 'out_indices' in backbone:
        raise ValueError(f'{where} sets the backbone\'s out_indices; remove '
                         'network.backbone.out_indices')
    depth = _backbone_depth(backbone)
    if depth is None:
        raise ValueError(f'{where}: the backbone config gives no number of blocks (arch)')
    layers = intermediate.get('layers')
    layers = list(range(depth - 1)) if layers is None else list(layers)
    for i in layers:
        if not isinstance(i, int) or not 0 <= i < depth - 1:
            raise ValueError(f'{where}.layers: {i!r} is not an intermediate block of a '
                             f'{depth}-block backbone (0..{depth - 2}; the last is the output)')
    if not layers or len(set(layers)) != len(layers):
        raise ValueError(f'{where}.layers: need distinct block indices, got {layers}')
    return sorted(layers)
