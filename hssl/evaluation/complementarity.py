"""Which samples the auxiliary head solves that the base model cannot (HSSL Sec. 3.3).

With the test samples U and the sets of samples classified correctly by

* B1: the base model pre-trained by the baseline (e.g. DINO),
* B2: the base model pre-trained by HSSL,
* H:  the auxiliary head pre-trained by HSSL,

    N_s  = |H ∩ (U - B1)|                                          (Eq. 3)
    sIoU = |B2 ∩ (U - B1) ∩ H ∩ (U - B1)| / |B2 ∩ (U - B1)|         (Eq. 4)

The paper (Tab. II) classifies with k-NN on frozen features and gives sIoU in
percent. :class:`AuxiliaryHeadFeatures` lets
:func:`hssl.evaluation.extract_features` read the auxiliary head's cls output
instead of the backbone's.
"""
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor

from .knn import knn_predict


def _as_labels(values, name: str) -> np.ndarray:
    array = np.asarray(values.cpu() if isinstance(values, Tensor) else values)
    if array.ndim != 1:
        raise ValueError(f'{name} must be 1-D (num_samples,), got shape {array.shape}')
    if array.dtype.kind not in 'iu':
        raise ValueError(f'{name} must hold integer class indices, got dtype {array.dtype}')
    return array


def complementarity(labels, baseline_pred, hssl_pred, aux_pred) -> Dict[str, float]:
    """N_s (Eq. 3) and sIoU (Eq. 4) from the class predictions of the three models.

    Args:
        labels: (N,) true classes of the test samples U.
        baseline_pred: (N,) predictions of the baseline base model (B1).
        hssl_pred: (N,) predictions of the HSSL base model (B2).
        aux_pred: (N,) predictions of the HSSL auxiliary head (H).

    Returns:
        ``num_samples``, the top-1 accuracies ``top1_baseline``,
        ``top1_hssl``, ``top1_aux`` (%), ``N_s``, ``num_b2_not_b1``
        (|B2 ∩ (U - B1)|), ``num_both`` (the numerator of Eq. 4) and
        ``sIoU`` in percent (NaN when B2 ∩ (U - B1) is empty).
    """
    arrays = {name: _as_labels(v, name) for name, v in
              (('labels', labels), ('baseline_pred', baseline_pred), ('hssl_pred', hssl_pred),
               ('aux_pred', aux_pred))}
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f'complementarity: different numbers of samples {sizes}')
    y = arrays['labels']
    b1 = arrays['baseline_pred'] == y
    b2 = arrays['hssl_pred'] == y
    h = arrays['aux_pred'] == y
    not_b1 = ~b1
    n_s = int(np.sum(h & not_b1))
    gained = int(np.sum(b2 & not_b1))
    both = int(np.sum(b2 & not_b1 & h))
    n = len(y)
    pct = (lambda c: 100.0 * float(np.sum(c)) / n) if n else (lambda c: float('nan'))
    return dict(num_samples=n, top1_baseline=pct(b1), top1_hssl=pct(b2), top1_aux=pct(h),
                N_s=n_s, num_b2_not_b1=gained, num_both=both,
                sIoU=100.0 * both / gained if gained else float('nan'))


def knn_top1_predictions(train_features, train_labels, test_features, k: int = 20,
                         temperature: float = 0.07, backend: str = 'auto',
                         num_classes: Optional[int] = None) -> np.ndarray:
    """The class of highest weighted k-NN score per test sample (ties: lowest class)."""
    scores = knn_predict(train_features, train_labels, test_features, ks=[k],
                         temperature=temperature, backend=backend, num_classes=num_classes)[k]
    return scores.argmax(dim=1).cpu().numpy()


class AuxiliaryHeadFeatures:
    """An algorithm seen through one auxiliary head: ``extract_feat`` returns
    that head's cls output (normalised grid mean) of the teacher (or student)
    network, so :func:`hssl.evaluation.extract_features` extracts it (in the
    model's eval mode: ``train`` / ``eval`` are the model's).

    Args:
        model: an hssl algorithm with auxiliary heads.
        head: the head's name: None for the only head, ``'aux'``, or the
            ``name`` of a head trained side by side (``'convnext'``).
    """

    def __init__(self, model, head: Optional[str] = None):
        heads = list(model.student.aux_heads.keys())
        if not heads:
            raise ValueError(f'{type(model).__name__} has no auxiliary head (a baseline model)')
        if head is None:
            if len(heads) != 1:
                raise ValueError(f'the model has several auxiliary heads {heads}: choose one')
            head = heads[0]
        elif head not in heads:
            head = f'aux_{head}'
            if head not in heads:
                raise KeyError(f'no auxiliary head "{head[4:]}"; the model has {heads}')
        self.model = model
        self.head = head
        self.data_preprocessor = model.data_preprocessor

    @property
    def training(self) -> bool:
        return self.model.training

    def train(self, mode: bool = True):
        self.model.train(mode)
        return self

    def eval(self):
        return self.train(False)

    @torch.no_grad()
    def extract_feat(self, inputs, use_teacher: bool = True) -> Tensor:
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        network = self.model.inference_network if use_teacher else self.model.student
        return network.aux_heads[self.head](network.backbone(inputs).grid).cls
