"""DINO (Caron et al., 2021) with HSSL (Eq. 1-2).

The teacher sees the global views, the student all views; for every pair of
the network (:attr:`HeterogeneousNetwork.pairs`) the student branch learns the
centred, sharpened teacher target branch over view pairs q != v. Each target
branch has its own centre, updated once per step even where several pairs
share the target (deep-to-shallow pairs learn the final layer's target).
"""
from typing import Dict, List, Sequence

import torch
from mmengine.model import ModuleDict
from torch import Tensor

from hssl.models.builder import build_component
from hssl.registry import MODELS
from .base import SelfSupervisedAlgorithm


@MODELS.register_module()
class DINO(SelfSupervisedAlgorithm):
    """Args:
        network: student network config.
        loss: ``DINOLoss`` config (one copy per target branch).
        num_global_views: the first views of a sample that the teacher sees.
    """

    def __init__(self, network: dict, loss: dict, num_global_views: int = 2, **kwargs):
        super().__init__(network, **kwargs)
        self.num_global_views = num_global_views
        self.criteria = ModuleDict(
            {target: build_component(loss, 'model.loss') for target, _, _ in self.student.pairs})

    def loss(self, inputs: List[Tensor], data_samples) -> Dict[str, Tensor]:
        if len(inputs) < self.num_global_views:
            raise ValueError(f'DINO: got {len(inputs)} views per sample, needs at least '
                             f'{self.num_global_views} global views')
        with torch.no_grad():
            # the teacher computes only the targets (with HSSL not its base branch)
            teacher = self.teacher(inputs[:self.num_global_views],
                                   branches={t for t, _, _ in self.student.pairs})
        student = self.student(inputs)
        return cls_pair_losses(self.student.loss_terms(), self.criteria, teacher, student,
                               self.num_global_views, len(inputs))


def cls_pair_losses(terms: Sequence, criteria, teacher, student, num_global_views: int,
                    num_views: int, scale: float = 1.0, prefix: str = 'loss_'
                    ) -> Dict[str, Tensor]:
    """DINO's cls loss for every (target, branch, weight) term
    (:meth:`HeterogeneousNetwork.loss_terms`); each target's teacher
    probabilities computed, and its centre updated, once."""
    losses, probs = {}, {}
    for target, branch, weight in terms:
        criterion = criteria[target]
        if target not in probs:
            probs[target] = criterion.teacher_probs(teacher[target].cls)
        losses[f'{prefix}{branch}'] = scale * weight * criterion(
            probs[target], student[branch].cls, num_global_views, num_views)
    for target in probs:
        criteria[target].update_center(teacher[target].cls)
    return losses
