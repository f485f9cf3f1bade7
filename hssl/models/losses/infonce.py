"""InfoNCE of MoCo v3 (``contrastive_loss`` in facebookresearch/moco-v3).

For queries q (N, C) and keys k (N, C) of the same N images on this process:
both are L2-normalised, the keys of all processes are gathered (mmengine's
``all_gather``; no gradient flows into keys), and

    L = 2T * CE(q k_all^T / T, labels),   labels_i = i + N * rank

so each query has 1 positive (its own image's key) and N * world_size - 1
negatives. The 2T factor is MoCo v3's (it makes the gradient scale
independent of T). HSSL (paper Eq. 11): the keys are the momentum encoder's
auxiliary-head projections z1^h and the queries z2^b and z2^h.
"""
from typing import Tuple

import torch
from mmengine.dist import all_gather, get_rank
from torch import Tensor, nn
from torch.nn import functional as F

from hssl.registry import MODELS


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """Args:
        temperature: T (MoCo v3: 0.2 for ViTs).
        scale_by_2t: multiply the loss by 2T, as MoCo v3.
    """

    def __init__(self, temperature: float = 0.2, scale_by_2t: bool = True):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'InfoNCELoss: temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.scale_by_2t = scale_by_2t

    def logits(self, query: Tensor, key: Tensor) -> Tuple[Tensor, Tensor]:
        """(N, K_all) logits against the keys of every process and the labels."""
        if query.shape != key.shape or query.dim() != 2:
            raise ValueError(f'InfoNCELoss: query {tuple(query.shape)} and key '
                             f'{tuple(key.shape)} must both be (N, C)')
        query = F.normalize(query, dim=1)
        key = F.normalize(key.detach(), dim=1)
        keys = torch.cat(all_gather(key), dim=0)
        logits = query @ keys.t() / self.temperature
        n = query.shape[0]
        labels = torch.arange(n, device=query.device) + n * get_rank()
        return logits, labels

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        logits, labels = self.logits(query, key)
        # at least fp32 (logits of an fp16/bf16 forward), fp64 stays fp64
        loss = F.cross_entropy(logits.to(torch.promote_types(logits.dtype, torch.float32)), labels)
        return loss * (2 * self.temperature) if self.scale_by_2t else loss
