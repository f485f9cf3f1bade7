"""DINO's cross-entropy between a centred, sharpened teacher and the student.

For teacher views q and student views v != q (DINO Alg. 1; HSSL Eq. 2):
    L = mean_{q, v != q} mean_batch  -sum_i softmax((t_q - c) / tau_t)_i
                                          * log_softmax(s_v / tau_s)_i
The centre c is an EMA (momentum 0.9) of the teacher's mean output, averaged
over all processes.
"""
from typing import Sequence

import torch
from mmengine.dist import all_reduce, get_world_size
from torch import Tensor, nn
from torch.nn import functional as F

from hssl.registry import MODELS


@MODELS.register_module()
class DINOLoss(nn.Module):
    """Args:
        out_channels: K, the projection's output width (size of the centre).
        student_temp: tau_s, 0.1.
        teacher_temp: tau_t; a :class:`TeacherTempHook` changes it during
            training (warm-up 0.04 -> 0.07 in the long DINO / iBOT recipes).
        center_momentum: EMA momentum of the centre, 0.9.
    """
    center_dims = 2  # the centre's shape: (1, K); (1, 1, K) for patch tokens

    def __init__(self, out_channels: int, student_temp: float = 0.1,
                 teacher_temp: float = 0.04, center_momentum: float = 0.9):
        super().__init__()
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(*[1] * (self.center_dims - 1), out_channels))

    def teacher_probs(self, teacher_out: Tensor) -> Tensor:
        """Centre and sharpen the teacher's output (no gradient)."""
        return F.softmax((teacher_out.detach() - self.center) / self.teacher_temp, dim=-1)

    def forward(self, teacher_probs: Tensor, student_out: Tensor, num_teacher_views: int,
                num_student_views: int, same_view_pairs: bool = False) -> Tensor:
        """Cross-entropy over view pairs.

        ``teacher_probs`` (num_teacher_views * B, K) from :meth:`teacher_probs`;
        ``student_out`` (num_student_views * B, K) raw student logits, views in
        the same order (the first views are the teacher's views).
        ``same_view_pairs``: also count pairs q == v.
        """
        t = teacher_probs.chunk(num_teacher_views)
        log_s = F.log_softmax(student_out / self.student_temp, dim=-1).chunk(num_student_views)
        total, pairs = 0.0, 0
        for q, t_q in enumerate(t):
            for v, s_v in enumerate(log_s):
                if v == q and not same_view_pairs:
                    continue
                total = total + torch.sum(-t_q * s_v, dim=-1).mean()
                pairs += 1
        return total / pairs

    @torch.no_grad()
    def update_center(self, teacher_out: Tensor) -> None:
        batch_center = teacher_out.sum(dim=0, keepdim=True)
        all_reduce(batch_center)
        batch_center = batch_center / (teacher_out.shape[0] * get_world_size())
        self.center.mul_(self.center_momentum).add_(batch_center, alpha=1 - self.center_momentum)
