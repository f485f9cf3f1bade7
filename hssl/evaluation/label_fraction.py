"""A seeded, class-balanced subset of a labelled set (semi-supervised
evaluation with 1% / 10% of the labels, Tab. X).

Each class keeps ``round(fraction * n_c)`` of its ``n_c`` images (at least
one): the subset has the class proportions of the full set (ImageNet-1k at
1%: about 13 images per class). The images of a class are drawn by a
permutation from ``numpy.random.default_rng(seed)``, the classes in
ascending label order, so a seed names one subset. Used as the k-NN memory
(``tools/knn_eval.py --label-fraction``) and as the training set of the
linear probe (``ImageFolder(label_fraction=..., label_seed=...)``).
"""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

__all__ = ['balanced_subset', 'write_subset_list']


def balanced_subset(labels: Sequence[int], fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices into ``labels`` of the subset (see the module docstring)."""
    if isinstance(fraction, bool) or not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f'label fraction must be in (0, 1], got {fraction!r}')
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError('label fraction: need a non-empty 1-D list of labels')
    if (labels < 0).any():
        raise ValueError('label fraction: the set has unlabelled samples (label < 0); '
                         'a labelled class-folder tree is needed')
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, int(round(float(fraction) * len(members))))
        keep.append(members[rng.permutation(len(members))[:count]])
    return np.sort(np.concatenate(keep))


def write_subset_list(path: str, indices: Sequence[int], labels: Sequence[int],
                      files: Optional[Sequence[str]] = None) -> None:
    """One line per kept sample: ``<file> <label>``, or ``<index> <label>``
    where the files are unknown (features given without their images)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        for i in indices:
            name = files[i] if files is not None else str(int(i))
            f.write(f'{name} {int(labels[i])}\n')
