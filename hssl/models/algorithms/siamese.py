"""BYOL and SimSiam on the views and per-view-type predictors of
:class:`MultiTaskMoCoV3` (with two global views only: the plain methods).

Both are asymmetric Siamese methods like MoCo v3: a query branch with a
predictor learns a stop-gradient key. They differ from MoCo v3 only in

* the loss: a cosine loss instead of InfoNCE, mmpretrain's
  ``CosineSimilarityLoss(shift_factor, scale_factor)`` =
  shift - scale * cos(pred(q), k). BYOL (Grill et al., 2020): shift 2,
  scale 2, i.e. its normalised MSE 2 - 2 cos, summed over the two view orders
  (mmpretrain's ``BYOL`` loss plus the constant 4); SimSiam (Chen & He, 2021): shift 0, scale 0.5,
  i.e. -(cos(p1, z2) + cos(p2, z1)) / 2 as mmpretrain's ``SimSiam``;
* where the keys come from: BYOL's from the EMA target network (as MoCo v3's;
  momentum 0.99 -> 1 with EMATeacherHook), SimSiam's from the online network
  itself with the gradient stopped (no teacher, no EMA hook).

HSSL (keys from the auxiliary branch), deep-to-shallow branches and the
per-view-type predictors apply as in :class:`MultiTaskMoCoV3`.
"""
from typing import Dict, List, Sequence

from torch import Tensor

from hssl.registry import MODELS
from .multi_task_mocov3 import MultiTaskMoCoV3


@MODELS.register_module()
class BYOL(MultiTaskMoCoV3):
    """BYOL: config ``loss=dict(type='CosineSimilarityLoss', shift_factor=2.0,
    scale_factor=2.0)``; arguments as :class:`MultiTaskMoCoV3`."""


@MODELS.register_module()
class SimSiam(MultiTaskMoCoV3):
    """SimSiam: no momentum encoder; the keys are the student's own projections
    of the global views, detached. Config ``loss=dict(type='CosineSimilarityLoss',
    shift_factor=0.0, scale_factor=0.5)``."""
    with_teacher = False

    def keys(self, inputs: Sequence[Tensor], keys_at: List[int], queries: List[dict]
             ) -> Dict[int, dict]:
        return {g: {b: out._replace(cls=out.cls.detach()) for b, out in queries[g].items()}
                for g in keys_at}
