"""Weighted k-NN classification of frozen features (DINO / iBOT ``eval_knn``).

The algorithm is the one of DINO's ``knn_classifier``:

1. L2-normalise the train and test features, so that the inner product is the
   cosine similarity.
2. Find the ``max(ks)`` training points most similar to each test point once,
   by exact (brute-force) search, sorted by decreasing similarity; every
   smaller ``k`` reuses a prefix of that list.
3. Weight neighbour ``j`` of a test point by ``exp(sim_j / temperature)``.
4. The score of class ``c`` is the sum of the weights of the neighbours whose
   label is ``c``; the prediction is the class with the highest score.

Two backends run the search of step 2 and give the same neighbours:

* ``'torch'``: chunked ``test @ train.T`` + ``topk`` on the device of
  ``train_features`` (a GPU when given CUDA tensors). Peak memory is about
  ``chunk_size * N_train * 4`` bytes for the similarity block.
* ``'faiss'``: an exact ``faiss.IndexFlatIP`` on float32 copies of the
  features; a faiss GPU index when faiss was built with GPU support, sees a
  GPU and ``max(ks) <= 1024`` (the GPU k-selection limit of older faiss).
* ``'auto'``: ``'faiss'`` when faiss can be imported, else ``'torch'``;
  also ``'torch'`` when the features are CUDA tensors and faiss has no GPU
  support (an exact search on the GPU beats a CPU faiss search).

Steps 3 and 4 are the same torch code for both backends. Computation is in
float32 whatever the input dtype (faiss only supports float32).

Ties:

* Neighbours: when several training points have exactly the same
  similarity to a test point across the ``k``-th position (e.g. duplicated
  training features), which of them are counted is implementation-defined and
  may differ between backends, and so may the scores. Otherwise both backends
  select the same neighbours; their similarities may differ in the last float32
  bits (different matrix-product kernels), so scores agree to ~1e-6 relative.
* Classes: ranking the class scores (top-1 / top-5) uses a stable sort, so
  classes with equal scores are ranked by increasing class index. Classes
  that no neighbour votes for score 0 and can fill the top-5 list that way.

Note that ``exp(1 / temperature)`` overflows float32 for
``temperature < ~0.0113``; DINO uses 0.07.
"""
from numbers import Integral
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ['knn_predict', 'knn_accuracy']

ArrayLike = Union[torch.Tensor, np.ndarray]

BACKENDS = ('auto', 'faiss', 'torch')
_FAISS_GPU_MAX_K = 1024
_FAISS_INSTALL_HINT = ("install it with `pip install faiss-cpu` (or `faiss-gpu`), or install "
                       "hssl with an extra: `pip install -e '.[cpu]'` / `pip install -e '.[gpu]'`")


def _import_faiss():
    """Return the faiss module, or None when it is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def _as_tensor(data: ArrayLike, name: str) -> torch.Tensor:
    if isinstance(data, torch.Tensor):
        return data.detach()
    if isinstance(data, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(data))
    raise TypeError(f'{name} must be a torch.Tensor or a numpy.ndarray, got {type(data).__name__}')


def _check_features(features: torch.Tensor, name: str) -> None:
    if features.dim() != 2:
        raise ValueError(f'{name} must be 2-D (num_samples, dim), '
                         f'got shape {tuple(features.shape)}')
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f'{name} is empty: shape {tuple(features.shape)}')
    if not features.is_floating_point():
        raise ValueError(f'{name} must be floating point, got dtype {features.dtype}')
    if not bool(torch.isfinite(features).all()):
        raise ValueError(f'{name} contains NaN or Inf values')


def _check_labels(labels: torch.Tensor, name: str, num_samples: int, features_name: str) -> None:
    if labels.dim() != 1:
        raise ValueError(f'{name} must be 1-D (num_samples,), got shape {tuple(labels.shape)}')
    if labels.shape[0] != num_samples:
        raise ValueError(f'{name} has {labels.shape[0]} labels but {features_name} has '
                         f'{num_samples} samples (features/labels count mismatch)')
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f'{name} must hold integer class indices, got dtype {labels.dtype}')
    if num_samples and int(labels.min()) < 0:
        raise ValueError(f'{name} must be non-negative class indices, got min {int(labels.min())}')


def _check_ks(ks: Union[int, Iterable[int]], num_train: int) -> List[int]:
    ks = [ks] if isinstance(ks, Integral) else list(ks)
    if not ks:
        raise ValueError('ks is empty: give at least one number of neighbours')
    for k in ks:
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f'every k must be a positive integer, got {k!r} in ks={ks}')
        if k > num_train:
            raise ValueError(f'k={k} is larger than the training set ({num_train} samples)')
    return list(dict.fromkeys(int(k) for k in ks))


def _prepare(train_features: ArrayLike, train_labels: ArrayLike, test_features: ArrayLike,
             ks: Union[int, Iterable[int]], temperature: float, num_classes: Optional[int],
             backend: str, chunk_size: int):
    """Validate and convert the inputs of :func:`knn_predict`."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; choose one of {BACKENDS}')
    train = _as_tensor(train_features, 'train_features')
    test = _as_tensor(test_features, 'test_features')
    labels = _as_tensor(train_labels, 'train_labels')
    _check_features(train, 'train_features')
    _check_features(test, 'test_features')
    if train.shape[1] != test.shape[1]:
        raise ValueError(f'train_features and test_features must have the same width, got '
                         f'{tuple(train.shape)} and {tuple(test.shape)}')
    _check_labels(labels, 'train_labels', train.shape[0], 'train_features')
    ks = _check_ks(ks, train.shape[0])
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise ValueError(f'chunk_size must be a positive integer, got {chunk_size!r}')
    max_label = int(labels.max())
    if num_classes is None:
        num_classes = max_label + 1
    elif num_classes <= max_label:
        raise ValueError(f'num_classes={num_classes} but train_labels contain class {max_label}')
    if backend == 'auto':
        faiss = _import_faiss()
        # CUDA features with a CPU-only faiss: the torch search on the GPU is
        # exact too, and avoids copying the features to the host.
        cpu_faiss_for_cuda = (faiss is not None and train.is_cuda
                              and not (hasattr(faiss, 'StandardGpuResources')
                                       and faiss.get_num_gpus() > 0))
        backend = 'faiss' if faiss is not None and not cpu_faiss_for_cuda else 'torch'
    elif backend == 'faiss' and _import_faiss() is None:
        raise ImportError(f"backend='faiss' needs the faiss package, which is not installed: "
                          f"{_FAISS_INSTALL_HINT}; or use backend='torch'.")
    device = train.device
    train = F.normalize(train.float(), dim=1)
    test = F.normalize(test.to(device).float(), dim=1)
    return train, labels.to(device).long(), test, ks, int(num_classes), backend


def _search_torch(train: torch.Tensor, test: torch.Tensor, k: int,
                  chunk_size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top-k inner-product search, ``chunk_size`` test rows at a time."""
    sims, indices = [], []
    train_t = train.t()
    for start in range(0, test.shape[0], chunk_size):
        block = test[start:start + chunk_size] @ train_t
        top = block.topk(k, dim=1, largest=True, sorted=True)
        sims.append(top.values)
        indices.append(top.indices)
    return torch.cat(sims), torch.cat(indices)


def _search_faiss(train: torch.Tensor, test: torch.Tensor,
                  k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top-k inner-product search with a faiss flat index (GPU if possible)."""
    faiss = _import_faiss()
    index = faiss.IndexFlatIP(train.shape[1])
    use_gpu = (hasattr(faiss, 'StandardGpuResources') and faiss.get_num_gpus() > 0
               and k <= _FAISS_GPU_MAX_K)
    if use_gpu:
        gpu = (train.device.index or 0) if train.device.type == 'cuda' else 0
        resources = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(resources, gpu, index)
    index.add(np.ascontiguousarray(train.cpu().numpy(), dtype=np.float32))
    sims, indices = index.search(np.ascontiguousarray(test.cpu().numpy(), dtype=np.float32), k)
    device = train.device
    return torch.from_numpy(sims).to(device), torch.from_numpy(indices).to(device)


def _class_scores(sims: torch.Tensor, neighbour_labels: torch.Tensor, k: int,
                  temperature: float, num_classes: int) -> torch.Tensor:
    """Sum of ``exp(sim / T)`` over the first ``k`` neighbours, per class."""
    weights = (sims[:, :k] / temperature).exp()
    scores = torch.zeros(sims.shape[0], num_classes, dtype=weights.dtype, device=sims.device)
    return scores.scatter_add_(1, neighbour_labels[:, :k], weights)


def _neighbours(train_features, train_labels, test_features, ks, temperature, num_classes,
                backend, chunk_size):
    """Validate inputs, run the search; return (sims, neighbour labels, ks, num_classes)."""
    train, labels, test, ks, num_classes, backend = _prepare(
        train_features, train_labels, test_features, ks, temperature, num_classes, backend,
        chunk_size)
    k_max = max(ks)
    if backend == 'faiss':
        sims, indices = _search_faiss(train, test, k_max)
    else:
        sims, indices = _search_torch(train, test, k_max, chunk_size)
    return sims, labels[indices], ks, num_classes


def knn_predict(train_features: ArrayLike,
                train_labels: ArrayLike,
                test_features: ArrayLike,
                ks: Union[int, Sequence[int]] = (10, 20, 100, 200),
                temperature: float = 0.07,
                num_classes: Optional[int] = None,
                backend: str = 'auto',
                chunk_size: int = 256) -> Dict[int, torch.Tensor]:
    """Weighted k-NN class scores of ``test_features`` (DINO's ``eval_knn``).

    Args:
        train_features: (N_train, D) features of the labelled set (tensor or
            array); need not be normalised.
        train_labels: (N_train,) integer class indices.
        test_features: (N_test, D) features to classify.
        ks: Number(s) of neighbours; each must be <= N_train. The
            ``max(ks)``-NN search runs once and smaller ks reuse its prefix.
        temperature: T in the neighbour weight ``exp(cosine_similarity / T)``.
        num_classes: Number of classes (width of the scores); defaults to
            ``max(train_labels) + 1``.
        backend: ``'auto'``, ``'faiss'`` or ``'torch'`` (see module docstring).
        chunk_size: Test rows per similarity block of the torch backend.

    Returns:
        ``{k: scores}`` in the order of ``ks``, ``scores`` a float32 tensor
        of shape (N_test, num_classes) on the device of ``train_features``
        (CPU for numpy inputs): the summed neighbour weights of each class.
        ``scores.argmax(1)`` is the prediction; see the module docstring for
        tie handling.

    Raises:
        ValueError: On malformed inputs (non-2-D or empty features, width or
            count mismatch, k larger than the training set, unknown backend,
            ...); the message names the problem and the shapes/values.
        ImportError: If ``backend='faiss'`` and faiss is not installed.
    """
    sims, neighbour_labels, ks, num_classes = _neighbours(
        train_features, train_labels, test_features, ks, temperature, num_classes, backend,
        chunk_size)
    return {k: _class_scores(sims, neighbour_labels, k, temperature, num_classes) for k in ks}


def _ranked_classes(scores: torch.Tensor, top: int) -> torch.Tensor:
    """Indices of the ``top`` best classes; equal scores ranked by class index."""
    return scores.sort(dim=1, descending=True, stable=True).indices[:, :top]


def knn_accuracy(train_features: ArrayLike,
                 train_labels: ArrayLike,
                 test_features: ArrayLike,
                 test_labels: ArrayLike,
                 ks: Union[int, Sequence[int]] = (10, 20, 100, 200),
                 temperature: float = 0.07,
                 num_classes: Optional[int] = None,
                 backend: str = 'auto',
                 chunk_size: int = 256) -> Dict[str, Dict[int, float]]:
    """Top-1 / top-5 accuracy (in %) of the weighted k-NN classifier.

    Arguments are those of :func:`knn_predict`, plus ``test_labels``
    ((N_test,) integer class indices). ``num_classes`` defaults to
    ``max(train_labels.max(), test_labels.max()) + 1``.

    Returns:
        ``{'top1': {k: pct}, 'top5': {k: pct}}`` with Python floats in
        [0, 100]. Top-5 needs at least 5 classes: when ``num_classes < 5``
        every ``'top5'`` value is ``float('nan')`` (it would trivially be
        100). A test sample is top-5 correct when its label is among the 5
        best-scored classes (ties ranked by class index).
    """
    test = _as_tensor(test_features, 'test_features')
    _check_features(test, 'test_features')
    test_labels_t = _as_tensor(test_labels, 'test_labels')
    _check_labels(test_labels_t, 'test_labels', test.shape[0], 'test_features')
    if num_classes is None:
        train_labels_t = _as_tensor(train_labels, 'train_labels')
        train_max = int(train_labels_t.max()) if train_labels_t.numel() else 0
        num_classes = max(train_max, int(test_labels_t.max())) + 1
    elif int(test_labels_t.max()) >= num_classes:
        raise ValueError(f'num_classes={num_classes} but test_labels contain class '
                         f'{int(test_labels_t.max())}')
    sims, neighbour_labels, ks, num_classes = _neighbours(
        train_features, train_labels, test, ks, temperature, num_classes, backend, chunk_size)
    targets = test_labels_t.to(sims.device).long().unsqueeze(1)
    result: Dict[str, Dict[int, float]] = {'top1': {}, 'top5': {}}
    top = min(5, num_classes)
    for k in ks:
        correct1 = correct5 = 0
        # Rank classes chunk by chunk: the (N_test, num_classes) scores of all
        # test samples are never held at once.
        for start in range(0, sims.shape[0], chunk_size):
            rows = slice(start, start + chunk_size)
            scores = _class_scores(sims[rows], neighbour_labels[rows], k, temperature, num_classes)
            hits = _ranked_classes(scores, top) == targets[rows]
            correct1 += int(hits[:, 0].sum())
            correct5 += int(hits.any(dim=1).sum())
        result['top1'][k] = 100.0 * correct1 / sims.shape[0]
        result['top5'][k] = 100.0 * correct5 / sims.shape[0] if num_classes >= 5 else float('nan')
    return result
