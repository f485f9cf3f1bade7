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
from torch import Tensor
from torch.nn import functional as F

from hssl.registry import MODELS
from .dino_loss import DINOLoss


@MODELS.register_module()
class MaskedPatchLoss(DINOLoss):
    """DINO's centring and sharpening (:class:`DINOLoss`, the same arguments)
    on patch tokens, with a (1, 1, K) centre and the masked-token loss above."""
    center_dims = 3

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
        super().update_center(teacher_patch.mean(dim=1))  # each image's mean patch output
