"""iBOT's masked-image-modelling loss on patch tokens.

For every global view v (teacher and student see the same crop, v == q):
    l_v(b) = sum_{masked j} -sum_i softmax((t_vj - c') / tau_t)_i
                                * log_softmax(s_vj / tau_s)_i  /  max(#masked, 1)
    L = mean_v mean_b l_v(b)
An image without masked tokens contributes 0 (and still counts in the mean).
The patch centre c' (1, 1, K) is an EMA (0.9) of the teacher's mean patch
output, averaged over processes.
"""
from typing import Sequence

import torch
from mmengine.dist import all_reduce, get_world_size
from torch import Tensor, nn
from torch.nn import functional as F

from hssl.registry import MODELS


@MODELS.register_module()
class MaskedPatchLoss(nn.Module):

    def __init__(self, out_channels: int, student_temp: float = 0.1,
                 teacher_temp: float = 0.04, center_momentum: float = 0.9):
        super().__init__()
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(1, 1, out_channels))

    def teacher_probs(self, teacher_patch: Tensor) -> Tensor:
        return F.softmax((teacher_patch.detach() - self.center) / self.teacher_temp, dim=-1)

    def forward(self, teacher_probs: Tensor, student_patch: Tensor, masks: Sequence[Tensor]) -> Tensor:
        """``teacher_probs``, ``student_patch``: (V * B, N, K), view-major;
        ``masks``: V bool tensors (B, h, w) with h * w = N."""
        views = len(masks)
        t = teacher_probs.chunk(views)
        log_s = F.log_softmax(student_patch / self.student_temp, dim=-1).chunk(views)
        total = 0.0
        for t_v, s_v, m_v in zip(t, log_s, masks):
            m_v = m_v.flatten(1).to(s_v.dtype)
            per_token = torch.sum(-t_v * s_v, dim=-1)
            total = total + (torch.sum(per_token * m_v, dim=-1) / m_v.sum(-1).clamp(min=1.0)).mean()
        return total / views

    @torch.no_grad()
    def update_center(self, teacher_patch: Tensor) -> None:
        batch_center = teacher_patch.mean(dim=1).sum(dim=0, keepdim=True).unsqueeze(1)
        all_reduce(batch_center)
        batch_center = batch_center / (teacher_patch.shape[0] * get_world_size())
        self.center.mul_(self.center_momentum).add_(batch_center, alpha=1 - self.center_momentum)
