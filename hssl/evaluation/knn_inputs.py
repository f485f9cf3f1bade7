"""The argument checks of :func:`hssl.evaluation.knn_predict` and
:func:`hssl.evaluation.knn_accuracy`, done once where they are called.

:func:`check_knn_inputs` turns the user's arrays into tensors on the device of
the training features, or raises one error that names the problem with the
shapes and values involved; the k-NN code after it checks nothing.
"""
from dataclasses import dataclass
from numbers import Integral
from typing import Iterable, List, Optional, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]
BACKENDS = ('auto', 'faiss', 'torch')


@dataclass
class KNNInputs:
    """Checked inputs: float train / test features on one device, integer labels."""
    train: torch.Tensor  # (N_train, D)
    labels: torch.Tensor  # (N_train,) int64
    test: torch.Tensor  # (N_test, D)
    test_labels: Optional[torch.Tensor]  # (N_test,) int64, or None
    ks: List[int]  # distinct, in the order given
    num_classes: int


def _as_tensor(data: ArrayLike, name: str) -> torch.Tensor:
    if isinstance(data, torch.Tensor):
        return data.detach()
    if isinstance(data, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(data))
    raise TypeError(f'{name} must be a torch.Tensor or a numpy.ndarray, got {type(data).__name__}')


def _features(data: ArrayLike, name: str) -> torch.Tensor:
    features = _as_tensor(data, name)
    if features.dim() != 2:
        raise ValueError(f'{name} must be 2-D (num_samples, dim), '
                         f'got shape {tuple(features.shape)}')
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f'{name} is empty: shape {tuple(features.shape)}')
    if not features.is_floating_point():
        raise ValueError(f'{name} must be floating point, got dtype {features.dtype}')
    if not bool(torch.isfinite(features).all()):
        raise ValueError(f'{name} contains NaN or Inf values')
    return features


def _labels(data: ArrayLike, name: str, num_samples: int, features_name: str) -> torch.Tensor:
    labels = _as_tensor(data, name)
    if labels.dim() != 1:
        raise ValueError(f'{name} must be 1-D (num_samples,), got shape {tuple(labels.shape)}')
    if labels.shape[0] != num_samples:
        raise ValueError(f'{name} has {labels.shape[0]} labels but {features_name} has '
                         f'{num_samples} samples (features/labels count mismatch)')
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f'{name} must hold integer class indices, got dtype {labels.dtype}')
    if num_samples and int(labels.min()) < 0:
        raise ValueError(f'{name} must be non-negative class indices, got min {int(labels.min())}')
    return labels


def _ks(ks: Union[int, Iterable[int]], num_train: int) -> List[int]:
    ks = [ks] if isinstance(ks, Integral) else list(ks)
    if not ks:
        raise ValueError('ks is empty: give at least one number of neighbours')
    for k in ks:
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f'every k must be a positive integer, got {k!r} in ks={ks}')
        if k > num_train:
            raise ValueError(f'k={k} is larger than the training set ({num_train} samples)')
    return list(dict.fromkeys(int(k) for k in ks))


def _num_classes(num_classes: Optional[int], labels: torch.Tensor,
                 test_labels: Optional[torch.Tensor]) -> int:
    """``num_classes``, checked against the labels; or the largest label + 1."""
    if num_classes is None:
        return max(int(y.max()) for y in (labels, test_labels) if y is not None) + 1
    for name, y in (('train_labels', labels), ('test_labels', test_labels)):
        if y is not None and int(y.max()) >= num_classes:
            raise ValueError(f'num_classes={num_classes} but {name} contain class {int(y.max())}')
    return int(num_classes)


def check_knn_inputs(train_features: ArrayLike, train_labels: ArrayLike,
                     test_features: ArrayLike, ks, temperature: float,
                     num_classes: Optional[int], backend: str, chunk_size: int,
                     test_labels: Optional[ArrayLike] = None) -> KNNInputs:
    """Check every argument (see :func:`hssl.evaluation.knn_predict`) and
    convert: tensors on the device of ``train_features``, labels int64."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; choose one of {BACKENDS}')
    train = _features(train_features, 'train_features')
    test = _features(test_features, 'test_features')
    if train.shape[1] != test.shape[1]:
        raise ValueError(f'train_features and test_features must have the same width, got '
                         f'{tuple(train.shape)} and {tuple(test.shape)}')
    labels = _labels(train_labels, 'train_labels', train.shape[0], 'train_features')
    if test_labels is not None:
        test_labels = _labels(test_labels, 'test_labels', test.shape[0], 'test_features')
    ks = _ks(ks, train.shape[0])
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise ValueError(f'chunk_size must be a positive integer, got {chunk_size!r}')
    num_classes = _num_classes(num_classes, labels, test_labels)
    device = train.device
    return KNNInputs(train=train, labels=labels.to(device).long(), test=test.to(device),
                     test_labels=None if test_labels is None else test_labels.to(device).long(),
                     ks=ks, num_classes=num_classes)
