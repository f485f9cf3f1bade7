"""MoCo v3 (Chen, Xie & He, 2021) with HSSL (paper Eq. 11, App. D), and its
multi-task variant: :class:`~hssl.models.algorithms.siamese.Siamese` with the
InfoNCE loss and a momentum encoder.

Two views x1, x2 of each image. The momentum encoder (the EMA of the whole
student network, momentum cosine 0.99 -> 1) gives the keys; the student's
branches, each through its own predictor, give the queries. For every loss
term (target, branch, w) of the network:

    w * (L(pred(q1^branch), k2^target) + L(pred(q2^branch), k1^target))

with L the InfoNCE loss (:class:`~hssl.models.losses.InfoNCELoss`, keys
gathered over processes). Without an auxiliary head: the plain symmetric MoCo
v3 loss. With one: keys from the momentum encoder's auxiliary head, queries
from the student's base and auxiliary branches (Eq. 11), w = 0.5 each (the
HSSL code's average over the branches that learn one target;
``network.reduction='sum'`` for Eq. 11 as printed).
"""
from hssl.datasets.transforms.view_types import VIEW_TYPES
from hssl.registry import MODELS
from .siamese import Siamese


@MODELS.register_module()
class MoCoV3(Siamese):
    """MoCo v3 on two global views; arguments as :class:`Siamese`
    (``loss=dict(type='InfoNCELoss', ...)``)."""


@MODELS.register_module()
class MultiTaskMoCoV3(MoCoV3):
    """MoCo v3 with global, cutout and local views, one predictor per view type
    (multi-task asymmetric siamese SSL; see :mod:`~hssl.models.algorithms.siamese`)."""
    default_view_types = VIEW_TYPES
