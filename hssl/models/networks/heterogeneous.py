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
the official code does; ``share_projector=True`` shares the whole projector
(Tab. XVI, "shared proj.").

``supervision`` (Tab. XIV, B the base model, A the auxiliary head) chooses
the pairs of each head: ``'heterogeneous'`` (default) A->A + A->B, the pairs
above; ``'homogeneous'`` A->A + B->B, pairs ``[(aux, [aux], w), (base,
[base], w)]`` (each learns from its own teacher output); ``'head_only'``
A->A, pair ``[(aux, [aux], w)]`` (the base model is trained only through
the head stacked on it; it has no projector then).

An auxiliary module with ``takes_images = True`` (``ParallelNetwork``,
Tab. XVII) gets the views themselves instead of the base model's grid.

The loss terms of the branches that learn one target are averaged
(``reduction='mean'``, the default): the HSSL code's ``PretrainLoss`` computes
0.5 L(z1^h, z2^b) + 0.5 L(z1^h, z2^h), and with iBOT 0.5 (patch_b + patch_h)
at patch level. ``reduction='sum'`` is Eq. 1 as printed (twice the HSSL
gradients). :meth:`loss_terms` turns pairs into weighted terms (``pairs.py``).

A related method plugs in as a component that contributes branches and
pairs: ``intermediate=dict(...)`` builds :class:`DeepToShallow` (SDSSL), whose
branches project intermediate cls tokens of the backbone; :attr:`hssl_pairs`
are the pairs without its pairs.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleDict
from torch import Tensor, nn

from hssl.models.builder import build_component
from hssl.registry import MODELS
from . import deep_to_shallow
from .deep_to_shallow import DeepToShallow
from .depth import continue_drop_path
from .pairs import REDUCTIONS, LossTerms, Pair, loss_terms


# Tab. XIV: the pairs of each auxiliary head (see the module docstring)
SUPERVISION = ('heterogeneous', 'homogeneous', 'head_only')


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
        share_projector: one projector for the base and the auxiliary
            outputs of a pair (Tab. XVI); the head must have the base
            model's width.
        supervision: ``'heterogeneous'`` (A->A + A->B, Eq. 1),
            ``'homogeneous'`` (A->A + B->B) or ``'head_only'`` (A->A), Tab. XIV.
        reduction: ``'mean'`` or ``'sum'`` over the predictions of one target
            (see above).
        intermediate: :class:`DeepToShallow`'s options (``layers``, ``weight``,
            ``ramp``, ``projector``, default: ``projector``), or None.
    """

    def __init__(self,
                 backbone: dict,
                 projector: Optional[dict] = None,
                 auxiliary: Union[None, dict, Sequence[dict]] = None,
                 aux_projector: Optional[dict] = None,
                 share_last_layer: bool = False,
                 reduction: str = 'mean',
                 intermediate: Optional[dict] = None,
                 share_projector: bool = False,
                 supervision: str = 'heterogeneous',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if supervision not in SUPERVISION:
            raise ValueError(f'HeterogeneousNetwork: supervision must be one of '
                             f'{", ".join(SUPERVISION)} (Tab. XIV); got {supervision!r}')
        self.supervision = supervision
        if reduction not in REDUCTIONS:
            raise ValueError(f'HeterogeneousNetwork: reduction must be "mean" (the HSSL code) '
                             f'or "sum" (Eq. 1 as printed), got {reduction!r}')
        self.reduction = reduction
        aux_cfgs = self._name_heads(auxiliary)
        backbone = continue_drop_path(backbone, aux_cfgs)
        if intermediate is not None:  # the component taps the backbone's blocks
            intermediate = deep_to_shallow.network_options(intermediate, backbone,
                                                           len(aux_cfgs), projector)
            backbone = dict(backbone, out_indices=intermediate['layers'] + [-1])
        self.backbone = build_component(backbone, 'network.backbone')
        width = self.backbone.embed_dims
        aux_projector = aux_projector if aux_projector is not None else projector

        self.aux_heads = ModuleDict({
            n: build_component(cfg, f'network.auxiliary ({n})', in_channels=width)
            for n, cfg in aux_cfgs.items()})
        self.projectors = ModuleDict()
        self.hssl_pairs: List[Pair] = []
        self._source: Dict[str, str] = {}  # branch -> 'backbone' or an aux head name
        if not aux_cfgs:
            self._add_branch('base', 'backbone', projector, width)
            self.hssl_pairs.append(Pair('base', ('base',), 1.0))
        for name in aux_cfgs:
            base = 'base' if name == 'aux' else name.replace('aux', 'base', 1)
            head_width = getattr(self.aux_heads[name], 'out_channels', width)
            weight = 1.0 / len(aux_cfgs)
            if supervision == 'head_only':  # A->A: the base output is no branch
                self._add_branch(name, name, aux_projector, head_width)
                self.hssl_pairs.append(Pair(name, (name,), weight))
                continue
            self._add_branch(base, 'backbone', projector, width)
            if share_projector and projector is not None:
                if head_width != width:
                    raise ValueError(f'HeterogeneousNetwork: share_projector needs the head '
                                     f'"{name}" to keep the base width {width}; it gives '
                                     f'{head_width}')
                self._add_branch(name, name, None, head_width)
                self.projectors[name] = self.projectors[base]  # one module, two branches
            else:
                self._add_branch(name, name, aux_projector, head_width)
            if share_last_layer and projector is not None and not share_projector:
                for layer in ('last_layer', 'patch_last_layer'):
                    if getattr(self.projectors[base], layer, None) is not None:
                        setattr(self.projectors[name], layer, getattr(self.projectors[base], layer))
            if supervision == 'homogeneous':  # A->A + B->B
                self.hssl_pairs += [Pair(name, (name,), weight), Pair(base, (base,), weight)]
            else:  # A->A + A->B (Eq. 1)
                self.hssl_pairs.append(Pair(name, (base, name), weight))
        self.deep_to_shallow = None
        if intermediate is not None:
            self.deep_to_shallow = DeepToShallow(in_channels=width, **intermediate)
            self._register_load_state_dict_pre_hook(deep_to_shallow.previous_layout)

    @property
    def pairs(self) -> List[Pair]:
        """:attr:`hssl_pairs`, then the pairs contributed by ``intermediate``
        (at their full weight; :meth:`loss_terms` applies their schedule)."""
        return self.hssl_pairs + self._contributed_pairs(progress=None, full=True)

    def branch_source(self, branch: str) -> str:
        """``'backbone'`` or the name of the auxiliary head that a branch projects."""
        return self._source[branch]

    def branch_width(self, branch: str) -> int:
        """Channels of a branch's tokens before its projector."""
        source = self._source[branch]
        width = self.backbone.embed_dims
        return width if source == 'backbone' else getattr(self.aux_heads[source], 'out_channels', width)

    def projector_of(self, branch: str) -> nn.Module:
        """The projector of a branch, the contributed branches' included."""
        if branch in self.projectors:
            return self.projectors[branch]
        return self.deep_to_shallow.projectors[branch]

    @property
    def reads_grid(self) -> bool:
        """Whether an auxiliary head reads the backbone's grid (a parallel one reads images)."""
        return any(not getattr(h, 'takes_images', False) for h in self.aux_heads.values())

    @property
    def targets(self) -> List[str]:
        """The teacher branches that the pairs learn from, each once, in order."""
        return self.loss_terms(self.pairs).targets

    def loss_terms(self, pairs: Optional[Sequence[Pair]] = None,
                   progress: Optional[Sequence[int]] = None,
                   reduction: Optional[str] = None) -> LossTerms:
        """The weighted (target, branch) terms of ``pairs`` (default: all pairs,
        the contributed ones weighted at ``progress`` = (iter, max_iters));
        ``reduction`` defaults to the network's."""
        if pairs is None:
            pairs = self.hssl_pairs + self._contributed_pairs(progress)
        return loss_terms(pairs, reduction or self.reduction)

    def _contributed_pairs(self, progress, full: bool = False) -> List[Pair]:
        if self.deep_to_shallow is None:
            return []
        # the shallow layers learn what the final base output learns
        target = self.hssl_pairs[0].target
        dts = self.deep_to_shallow
        return dts.pairs(target, dts.weight if full else dts.weight_at(progress))

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
        contributed = self.deep_to_shallow.branches if self.deep_to_shallow else []
        if branches is not None:
            unknown = set(branches) - set(self._source) - set(contributed)
            if unknown:
                raise KeyError(f'HeterogeneousNetwork: no branch {sorted(unknown)}; '
                               f'branches: {sorted(self._source) + contributed}')
        wanted_branches = [b for b in self._source if branches is None or b in branches]
        sources = {self._source[b] for b in wanted_branches}
        wanted_inter = [b for b in contributed if branches is None or b in branches]
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
            if wanted_inter:
                if out.inter_cls is None:
                    raise RuntimeError(f'HeterogeneousNetwork: intermediate is set but '
                                       f'{type(self.backbone).__name__} returned no intermediate '
                                       'cls tokens (inter_cls); it needs out_indices support')
                inter.append(out.inter_cls)
            for name, head in self.aux_heads.items():
                if name not in sources:
                    continue
                if out.grid is None and not getattr(head, 'takes_images', False):
                    raise RuntimeError(f'HeterogeneousNetwork: {type(self.backbone).__name__} gave '
                                       f'no grid for the auxiliary head "{name}" (MAEViT: set '
                                       'network.backbone.grid_fill)')
                aux = head(images if getattr(head, 'takes_images', False) else out.grid)
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
        if wanted_inter:
            projected = self.deep_to_shallow(torch.cat(inter, dim=1), wanted_inter)
            outputs.update({b: BranchOutput(cls=cls, patch=None) for b, cls in projected.items()})
        return outputs


def _append(store, cls, patch):
    store[0].append(cls)
    if patch is not None:
        store[1].append(patch)
