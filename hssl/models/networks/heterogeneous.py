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
            ``in_channels`` is filled in from the backbone width.
        auxiliary: None (baseline), one auxiliary head config, or a list of
            configs trained side by side (each may carry a ``name``).
        aux_projector: projection head config for auxiliary outputs; defaults
            to a copy of ``projector``.
        share_last_layer: share the projector's ``last_layer`` (and
            ``patch_last_layer`` where there is one) between the base and
            auxiliary projectors of a pair.
    """

    def __init__(self,
                 backbone: dict,
                 projector: dict,
                 auxiliary: Union[None, dict, Sequence[dict]] = None,
                 aux_projector: Optional[dict] = None,
                 share_last_layer: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        aux_cfgs = self._name_heads(auxiliary)
        backbone = _continue_drop_path(backbone, aux_cfgs)
        self.backbone = build_component(backbone, 'network.backbone')
        width = self.backbone.embed_dims
        aux_projector = aux_projector if aux_projector is not None else projector

        self.aux_heads = ModuleDict({
            n: build_component(cfg, f'network.auxiliary ({n})', in_channels=width)
            for n, cfg in aux_cfgs.items()})
        self.projectors = ModuleDict()
        self.pairs: List[Tuple[str, Tuple[str, ...], float]] = []
        self._source: Dict[str, str] = {}  # branch -> 'backbone' or an aux head name
        if not aux_cfgs:
            self._add_branch('base', 'backbone', projector, width)
            self.pairs.append(('base', ('base',), 1.0))
        for name in aux_cfgs:
            base = 'base' if name == 'aux' else name.replace('aux', 'base', 1)
            self._add_branch(base, 'backbone', projector, width)
            head_width = getattr(self.aux_heads[name], 'out_channels', width)
            self._add_branch(name, name, aux_projector, head_width)
            if share_last_layer:
                for layer in ('last_layer', 'patch_last_layer'):
                    if getattr(self.projectors[base], layer, None) is not None:
                        setattr(self.projectors[name], layer, getattr(self.projectors[base], layer))
            self.pairs.append((name, (base, name), 1.0 / len(aux_cfgs)))

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

    def _add_branch(self, branch: str, source: str, cfg: dict, width: int) -> None:
        self.projectors[branch] = build_component(cfg, f'network projector ({branch})',
                                                  in_channels=width)
        self._source[branch] = source

    def forward(self,
                views: Sequence[Tensor],
                masks: Optional[Sequence[Optional[Tensor]]] = None,
                num_patch_views: int = 0,
                patch_branches: Optional[Sequence[str]] = None) -> Dict[str, BranchOutput]:
        """Project every view through every branch.

        Args:
            views: images, views of equal size consecutive (globals first).
            masks: optional per-view patch masks (B, h, w) for the backbone.
            num_patch_views: also project the patch tokens of the first
                ``num_patch_views`` views (iBOT); 0 for cls only (DINO).
            patch_branches: the branches whose patches are projected (None:
                all); the others get ``patch=None``.
        """
        feats = {'backbone': ([], [])}
        feats.update({name: ([], []) for name in self.aux_heads})
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
            for name, head in self.aux_heads.items():
                aux = head(out.grid)
                _append(feats[name], aux.cls, aux.patch if with_patch else None)

        batch = views[0].shape[0]
        outputs = {}
        for branch, source in self._source.items():
            cls, patch = feats[source]
            proj = self.projectors[branch]
            wanted = num_patch_views and (patch_branches is None or branch in patch_branches)
            patch = torch.cat(patch)[:num_patch_views * batch] if wanted else None
            outputs[branch] = BranchOutput(cls=proj(torch.cat(cls)),
                                           patch=proj(patch, patch=True) if patch is not None else None)
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
    arch = backbone.get('arch', 'small')
    layers = (ARCHS.get(arch) or {}).get('num_layers') if isinstance(arch, str) else arch.get('num_layers')
    todo = [n for n, cfg in aux_cfgs.items() if 'drop_path_rate' not in cfg]
    if not rate or not layers or not todo:
        return backbone
    for name in todo:
        depth = aux_cfgs[name].get('depth', 3)
        aux_cfgs[name]['drop_path_rate'] = torch.linspace(0, rate, layers + depth).tolist()[layers:]
    deepest = max(aux_cfgs[n].get('depth', 3) for n in todo)
    backbone['drop_path_rate'] = rate * (layers - 1) / (layers + deepest - 1)
    return backbone
