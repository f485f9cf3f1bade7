"""Predictor-based siamese algorithms: MoCo v3, BYOL, SimSiam and their
multi-task variants are one algorithm with different losses, key sources and
view types.

Every view goes through the student on its own (per-view BatchNorm
statistics, as MoCo v3); each student branch that predicts has a predictor
per view type; the keys are the target branches' outputs of the two GLOBAL
views, from the momentum encoder (``self.teacher``, EMA of the whole student
network, :class:`~hssl.engine.hooks.EMATeacherHook`; it runs in training mode,
BN batch statistics, as MoCo v3's) or, without a teacher (SimSiam), from the
student itself with the gradient stopped. For a loss term (target, branch, w)
of the network (Eq. 11 with HSSL) and a view type t with query views Q_t:

    L_t = 2 * mean over v in Q_t, g global, g != v of  L(pred_t(q_v^branch), k_g^target)

For t = global that is L(q1, k2) + L(q2, k1), MoCo v3's symmetric loss; every
task has that scale. The loss is sum over terms and tasks of w * w_t * L_t.

Multi-task asymmetric siamese SSL (arXiv 2602.05845; docs/user_guides/
related_methods.md): with multi-crop a predictor shared by all views
destabilises predictor-based methods; one predictor per view type fixes it,
and each view type is its own alignment task. The view types come from
:class:`~hssl.datasets.transforms.MultiTaskMultiCrop`
(``PackInputs(algorithm_keys=['view_type'])``); two views without types are
the two global views.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import ModuleDict
from torch import Tensor

from hssl.datasets.transforms.view_types import VIEW_TYPES
from hssl.models.builder import build_component
from hssl.registry import MODELS
from .base import SelfSupervisedAlgorithm


@MODELS.register_module()
class Siamese(SelfSupervisedAlgorithm):
    """Args:
        network: student network config; its ``projector`` (e.g. ``MoCoV3MLP``)
            is copied per branch.
        predictor: predictor config; one per predicting student branch and
            view type; ``in_channels`` is the branch projector's ``out_channels``.
        loss: e.g. ``InfoNCELoss`` (MoCo v3) or mmpretrain's
            ``CosineSimilarityLoss`` (BYOL, SimSiam).
        view_types: the view types trained, a task each (default: the
            class's ``default_view_types``); ``('global',)``: two global
            views, the plain method (losses ``loss_<branch>``); more: losses
            ``loss_<branch>_<view type>``.
        separate_predictors: one predictor per view type (else the global
            views' predictor for every view).
        task_weights: loss weight per view type (missing types weigh 1).
    """

    default_view_types = ('global',)

    def __init__(self, network: dict, predictor: dict, loss: dict,
                 view_types: Optional[Sequence[str]] = None, separate_predictors: bool = True,
                 task_weights: Optional[dict] = None, **kwargs):
        super().__init__(network, **kwargs)
        name = type(self).__name__
        self.view_types = tuple(view_types or self.default_view_types)
        if 'global' not in self.view_types or set(self.view_types) - set(VIEW_TYPES):
            raise ValueError(f'{name}: view_types must include "global" and come from '
                             f'{VIEW_TYPES}, got {list(view_types)}')
        task_weights = dict(task_weights or {})
        unknown = set(task_weights) - set(VIEW_TYPES)
        if unknown:
            raise KeyError(f'{name}: task_weights has unknown view type(s) {sorted(unknown)}; '
                           f'use {VIEW_TYPES}')
        self.task_weights = {t: float(task_weights.get(t, 1.0)) for t in VIEW_TYPES}
        self.separate_predictors = separate_predictors
        if not self.student.projectors:
            raise ValueError(f'{name}: model.network needs a projector (e.g. MoCoV3MLP)')
        branches = self.student.loss_terms(self.student.pairs).branches

        def predictors(view_type: str) -> ModuleDict:
            suffix = '' if view_type == 'global' else f', {view_type}'
            return ModuleDict({b: build_component(
                predictor, f'model.predictor ({b}{suffix})',
                in_channels=self.student.projector_of(b).out_channels) for b in branches})

        self.predictors = predictors('global')
        self.view_predictors = ModuleDict({
            t: predictors(t) for t in self.view_types[1:] if separate_predictors})
        self.criterion = build_component(loss, 'model.loss')

    def predictor(self, branch: str, view_type: str):
        if view_type in self.view_predictors:
            return self.view_predictors[view_type][branch]
        return self.predictors[branch]

    def view_types_of(self, data_samples, num_views: int) -> List[str]:
        """The per-view types packed by the data pipeline (2 views without them: both global)."""
        name = type(self).__name__
        if not (data_samples and 'view_type' in data_samples[0]):
            if num_views == 2:
                return ['global', 'global']
            if self.view_types == ('global',):
                raise ValueError(f'{name}: needs exactly 2 views per sample, got {num_views}; '
                                 'use DINOMultiCrop with local_crops_number=0')
            raise KeyError(f'{name}: the data samples carry no "view_type"; use '
                           "MultiTaskMultiCrop and PackInputs(algorithm_keys=['view_type'])")
        types = list(data_samples[0].view_type)
        if len(types) != num_views:
            raise ValueError(f'{name}: {num_views} views but {len(types)} view types')
        if set(types) - set(self.view_types) or types.count('global') != 2:
            raise ValueError(f'{name}: need exactly 2 global views and types from '
                             f'{self.view_types}, got {types}')
        return types

    def keys(self, inputs: Sequence[Tensor], keys_at: List[int], queries: List[dict],
             targets: Sequence[str]) -> Dict[int, dict]:
        """{global view index: target branch outputs}: the momentum encoder's,
        or without one the student's own, detached."""
        if not self.with_teacher:
            return {g: {t: queries[g][t].cls.detach() for t in targets} for g in keys_at}
        with torch.no_grad():
            return {g: {t: out.cls for t, out in self.teacher([inputs[g]], branches=targets).items()}
                    for g in keys_at}

    def loss(self, inputs: Sequence[Tensor], data_samples) -> Dict[str, Tensor]:
        n = len(inputs) if isinstance(inputs, (list, tuple)) else 1
        types = self.view_types_of(data_samples, n)
        keys_at = [i for i, t in enumerate(types) if t == 'global']
        terms = self.loss_terms()
        queries = [self.student([view], branches=terms.branches) for view in inputs]
        keys = self.keys(inputs, keys_at, queries, terms.targets)
        losses = {}
        for target, branch, weight in terms:
            preds = [self.predictor(branch, t)(q[branch].cls) for t, q in zip(types, queries)]
            for task in self.view_types:
                pairs = [(v, g) for v, t in enumerate(types) if t == task
                         for g in keys_at if g != v]
                if not pairs:
                    continue
                task_loss = 2 * torch.stack(
                    [self.criterion(preds[v], keys[g][target]) for v, g in pairs]).mean()
                name = f'loss_{branch}' if self.view_types == ('global',) else f'loss_{branch}_{task}'
                losses[name] = weight * self.task_weights[task] * task_loss
        return losses


@MODELS.register_module()
class BYOL(Siamese):
    """BYOL (Grill et al., 2020): keys from the EMA target network (momentum
    0.99 -> 1 with EMATeacherHook), config ``loss=dict(type='CosineSimilarityLoss',
    shift_factor=2.0, scale_factor=2.0)``: shift - scale * cos(pred(q), k),
    i.e. its normalised MSE 2 - 2 cos, summed over the two view orders
    (mmpretrain's ``BYOL`` loss plus the constant 4). Trains every view type
    the data gives."""
    default_view_types = VIEW_TYPES


@MODELS.register_module()
class SimSiam(BYOL):
    """SimSiam (Chen & He, 2021): no momentum encoder, the keys are the
    student's own projections of the global views, detached; config
    ``loss=dict(type='CosineSimilarityLoss', shift_factor=0.0, scale_factor=0.5)``,
    i.e. -(cos(p1, z2) + cos(p2, z1)) / 2 as mmpretrain's ``SimSiam``."""
    with_teacher = False
