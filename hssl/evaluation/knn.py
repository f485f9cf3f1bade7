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

The arguments are checked once, on entry (:mod:`hssl.evaluation.knn_inputs`).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .knn_inputs import ArrayLike, KNNInputs, check_knn_inputs

__all__ = ['knn_predict', 'knn_accuracy']

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


def _resolve_backend(backend: str, on_cuda: bool) -> str:
    """``'faiss'`` or ``'torch'`` for ``backend`` (see the module docstring)."""
    faiss = _import_faiss()
    if backend == 'auto':
        # CUDA features with a CPU-only faiss: the torch search on the GPU is
        # exact too, and avoids copying the features to the host.
        cpu_faiss_for_cuda = (faiss is not None and on_cuda
                              and not (hasattr(faiss, 'StandardGpuResources')
                                       and faiss.get_num_gpus() > 0))
        return 'faiss' if faiss is not None and not cpu_faiss_for_cuda else 'torch'
    if backend == 'faiss' and faiss is None:
        raise ImportError(f"backend='faiss' needs the faiss package, which is not installed: "
                          f"{_FAISS_INSTALL_HINT}; or use backend='torch'.")
    return backend


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


def _neighbours(inputs: KNNInputs, backend: str,
                chunk_size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Similarities and labels of the ``max(ks)`` nearest training points of
    every test point, most similar first (cosine: L2-normalised float32)."""
    backend = _resolve_backend(backend, inputs.train.is_cuda)
    train = F.normalize(inputs.train.float(), dim=1)
    test = F.normalize(inputs.test.float(), dim=1)
    k_max = max(inputs.ks)
    if backend == 'faiss':
        sims, indices = _search_faiss(train, test, k_max)
    else:
        sims, indices = _search_torch(train, test, k_max, chunk_size)
    return sims, inputs.labels[indices]


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
    inputs = check_knn_inputs(train_features, train_labels, test_features, ks, temperature,
                              num_classes, backend, chunk_size)
    sims, neighbour_labels = _neighbours(inputs, backend, chunk_size)
    return {k: _class_scores(sims, neighbour_labels, k, temperature, inputs.num_classes)
            for k in inputs.ks}


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
    inputs = check_knn_inputs(train_features, train_labels, test_features, ks, temperature,
                              num_classes, backend, chunk_size, test_labels)
    sims, neighbour_labels = _neighbours(inputs, backend, chunk_size)
    targets = inputs.test_labels.unsqueeze(1)
    num_classes = inputs.num_classes
    result: Dict[str, Dict[int, float]] = {'top1': {}, 'top5': {}}
    top = min(5, num_classes)
    for k in inputs.ks:
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
