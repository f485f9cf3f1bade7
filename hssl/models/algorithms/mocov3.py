"""MoCo v3 (Chen, Xie & He, 2021) with HSSL (paper Eq. 11, App. D).

Two views x1, x2 of each image. The momentum encoder (``self.teacher``: the
EMA of the whole student network, momentum cosine 0.99 -> 1 by
:class:`~hssl.engine.hooks.EMATeacherHook`) gives the keys; the student's
branches, each through its own predictor, give the queries. For every pair
(target, predictions) of the network:

    mean over p in predictions:  L(pred_p(z1^p), k2^target) + L(pred_p(z2^p), k1^target)

with L the InfoNCE loss (:class:`~hssl.models.losses.InfoNCELoss`, keys
gathered over processes). Without an auxiliary head: the plain symmetric MoCo
v3 loss (target = base). With one: target = the momentum encoder's auxiliary
head, queries = the student's base and auxiliary branches (Eq. 11):
L = 0.5 L(z2^b, z1^h) + 0.5 L(z2^h, z1^h), symmetrised over the views (the
average over the branches that learn one target, as the HSSL code's iBOT loss;
``network.reduction='sum'`` for Eq. 11 as printed).

Each view goes through the networks on its own, as in MoCo v3, so the
BatchNorm statistics of projectors and predictors are per view. The momentum
encoder runs in training mode (BN batch statistics), as MoCo v3's.
"""
from typing import Dict, List

import torch
from mmengine.model import ModuleDict
from torch import Tensor

from hssl.models.builder import build_component
from hssl.registry import MODELS
from .base import SelfSupervisedAlgorithm


@MODELS.register_module()
class MoCoV3(SelfSupervisedAlgorithm):
    """Args:
        network: student network config; its ``projector`` is MoCo v3's
            projector (e.g. ``MoCoV3MLP``, 3 layers), copied per branch.
        predictor: predictor config (e.g. ``MoCoV3MLP`` with 2 layers); one
            per student branch that predicts (base, and aux with HSSL); its
            ``in_channels`` is the branch projector's ``out_channels``.
        loss: ``InfoNCELoss`` config.
    """

    def __init__(self, network: dict, predictor: dict, loss: dict, **kwargs):
        super().__init__(network, **kwargs)
        branches = dict.fromkeys(b for _, preds, _ in self.student.pairs for b in preds)
        if not self.student.projectors:
            raise ValueError('MoCoV3: model.network needs a projector (e.g. MoCoV3MLP)')
        self.predictors = ModuleDict({
            b: build_component(predictor, f'model.predictor ({b})',
                               in_channels=self.student.projectors[b].out_channels)
            for b in branches})
        self.criterion = build_component(loss, 'model.loss')

    def loss(self, inputs: List[Tensor], data_samples) -> Dict[str, Tensor]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            n = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(f'MoCoV3: needs exactly 2 views per sample, got {n}; use '
                             'DINOMultiCrop with local_crops_number=0')
        with torch.no_grad():
            keys = [self.teacher([view]) for view in inputs]
        queries = [self.student([view]) for view in inputs]
        losses = {}
        for target, branch, weight in self.student.loss_terms():
            k1, k2 = (k[target].cls for k in keys)
            q1, q2 = (self.predictors[branch](q[branch].cls) for q in queries)
            losses[f'loss_{branch}'] = weight * (self.criterion(q1, k2) + self.criterion(q2, k1))
        return losses
