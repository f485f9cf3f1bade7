"""MoCo v3 with global, cutout and local views and one predictor per view type.

Multi-task asymmetric Siamese SSL (arXiv 2602.05845; docs/user_guides/related_methods.md): with
multi-crop, a predictor shared by all views destabilises predictor-based
methods (BYOL, SimSiam, MoCo v3); one predictor per view type fixes it, and
each view type is its own alignment task. The targets are the momentum
encoder's key projections of the two GLOBAL views only.

Views and their types come from :class:`~hssl.datasets.transforms.MultiTaskMultiCrop`
(``PackInputs(algorithm_keys=['view_type'])``). For a task t (a view type)
with query views Q_t and the two global key views K:

    L_t = 2 * mean over v in Q_t, g in K, g != v of  InfoNCE(pred_t(q_v), k_g)

(for t = global: L(q1, k2) + L(q2, k1), MoCo v3's symmetric loss; every task
has that scale) and the loss is sum_t w_t L_t. ``separate_predictors=False``
uses the global predictor for every view (plain multi-crop MoCo v3).

It composes with the network's pairs as :class:`MoCoV3` does: HSSL (keys from
the momentum encoder's auxiliary head; base and aux queries, each branch with
its own predictors: Eq. 11) and deep-to-shallow (intermediate branches as
extra queries) apply to every task.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import ModuleDict
from torch import Tensor

from hssl.models.builder import build_component
from hssl.registry import MODELS
from .mocov3 import MoCoV3

VIEW_TYPES = ('global', 'cutout', 'local')


def view_types_from(data_samples, num_views: int) -> List[str]:
    """The per-view types packed by the data pipeline (2 views without them: both global)."""
    if data_samples and 'view_type' in data_samples[0]:
        types = list(data_samples[0].view_type)
    elif num_views == 2:
        return ['global', 'global']
    else:
        raise KeyError('MultiTaskMoCoV3: the data samples carry no "view_type"; use '
                       "MultiTaskMultiCrop and PackInputs(algorithm_keys=['view_type'])")
    if len(types) != num_views:
        raise ValueError(f'MultiTaskMoCoV3: {num_views} views but {len(types)} view types')
    unknown = set(types) - set(VIEW_TYPES)
    if unknown or types.count('global') != 2:
        raise ValueError(f'MultiTaskMoCoV3: need exactly 2 global views and types from '
                         f'{VIEW_TYPES}, got {types}')
    return types


@MODELS.register_module()
class MultiTaskMoCoV3(MoCoV3):
    """Args (beyond :class:`MoCoV3`'s):
        separate_predictors: one predictor per view type (else one shared).
        task_weights: loss weight per view type, e.g. ``dict(global=1.0,
            cutout=1.0, local=1.0)`` (missing types weigh 1).
    """

    def __init__(self, network: dict, predictor: dict, loss: dict,
                 separate_predictors: bool = True, task_weights: Optional[dict] = None,
                 **kwargs):
        super().__init__(network, predictor, loss, **kwargs)
        task_weights = dict(task_weights or {})
        unknown = set(task_weights) - set(VIEW_TYPES)
        if unknown:
            raise KeyError(f'MultiTaskMoCoV3: task_weights has unknown view type(s) '
                           f'{sorted(unknown)}; use {VIEW_TYPES}')
        self.task_weights = {t: float(task_weights.get(t, 1.0)) for t in VIEW_TYPES}
        self.separate_predictors = separate_predictors
        # the global views use MoCoV3's per-branch predictors; others get their own
        self.view_predictors = ModuleDict()
        if separate_predictors:
            for view_type in VIEW_TYPES[1:]:
                self.view_predictors[view_type] = ModuleDict({
                    b: build_component(predictor, f'model.predictor ({b}, {view_type})',
                                       in_channels=self.student.projectors[b].out_channels)
                    for b in self.predictors})

    def predictor(self, branch: str, view_type: str):
        if not self.separate_predictors or view_type == 'global':
            return self.predictors[branch]
        return self.view_predictors[view_type][branch]

    def keys(self, inputs: Sequence[Tensor], keys_at: List[int], queries: List[dict]
             ) -> Dict[int, dict]:
        """{view index: branch outputs} of the key views: the momentum encoder's."""
        with torch.no_grad():
            return {g: self.teacher([inputs[g]]) for g in keys_at}

    def loss(self, inputs: Sequence[Tensor], data_samples) -> Dict[str, Tensor]:
        types = view_types_from(data_samples, len(inputs))
        keys_at = [i for i, t in enumerate(types) if t == 'global']
        queries = [self.student([view]) for view in inputs]  # per view: per-view BN, as MoCo v3
        keys = self.keys(inputs, keys_at, queries)
        losses = {}
        for target, branch, weight in self.student.loss_terms():
            preds = [self.predictor(branch, t)(q[branch].cls) for t, q in zip(types, queries)]
            for task in VIEW_TYPES:
                terms = [self.criterion(preds[v], keys[g][target].cls)
                         for v, t in enumerate(types) if t == task
                         for g in keys_at if g != v]
                if terms:
                    losses[f'loss_{branch}_{task}'] = (
                        weight * self.task_weights[task] * 2 * torch.stack(terms).mean())
        return losses
