"""DINO (Caron et al., 2021) with HSSL (Eq. 1-2).

The teacher sees the global views, the student all views; for every pair of
the network (:attr:`HeterogeneousNetwork.pairs`) the student branch learns the
centred, sharpened teacher target branch over view pairs q != v. Each target
branch has its own centre.
"""
from typing import Dict, List

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
            teacher = self.teacher(inputs[:self.num_global_views])
        student = self.student(inputs)
        losses = {}
        for target, predictions, weight in self.student.pairs:
            criterion = self.criteria[target]
            probs = criterion.teacher_probs(teacher[target].cls)
            for branch in predictions:
                losses[f'loss_{branch}'] = weight * criterion(
                    probs, student[branch].cls, self.num_global_views, len(inputs))
            criterion.update_center(teacher[target].cls)
        return losses
