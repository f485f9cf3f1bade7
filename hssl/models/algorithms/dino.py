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
from hssl.models.networks import LossTerms
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
        self.criteria = ModuleDict(  # one centre per target branch
            {t: build_component(loss, 'model.loss') for t in self.student.targets})

    def loss(self, inputs: List[Tensor], data_samples) -> Dict[str, Tensor]:
        G = check_views(self, inputs, self.num_global_views)
        terms = self.loss_terms()
        with torch.no_grad():  # only the targets (with HSSL not the teacher's base branch)
            teacher = self.teacher(inputs[:G], branches=terms.targets)
        student = self.student(inputs, branches=terms.branches)
        return cls_losses(terms, self.criteria, teacher, student, G, len(inputs))


def check_views(algorithm, inputs: Sequence[Tensor], num_global_views: int) -> int:
    """The number of global views, or one clear error if a sample has fewer views."""
    if len(inputs) < num_global_views:
        raise ValueError(f'{type(algorithm).__name__}: got {len(inputs)} views per sample, '
                         f'needs at least {num_global_views} global views')
    return num_global_views


def cls_losses(terms: LossTerms, criteria, teacher, student, num_global_views: int,
               num_views: int, scale: float = 1.0, prefix: str = 'loss_') -> Dict[str, Tensor]:
    """DINO's cls loss of every term; each target's teacher probabilities
    computed, and its centre updated, once."""
    probs = {t: criteria[t].teacher_probs(teacher[t].cls) for t in terms.targets}
    losses = {f'{prefix}{branch}': scale * weight * criteria[target](
        probs[target], student[branch].cls, num_global_views, num_views)
        for target, branch, weight in terms}
    for target in terms.targets:
        criteria[target].update_center(teacher[target].cls)
    return losses
