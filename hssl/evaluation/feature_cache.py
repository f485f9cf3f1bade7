"""A cache of train / test features as ``.npz`` files, keyed by the weights
and the data; :func:`train_test_features` reads it or extracts and writes it.

The ``.npz`` layout is the one of ``tools/knn_eval.py --features``:
``train_features`` (N, D), ``train_labels`` (N,), ``test_features`` (M, D),
``test_labels`` (M,).
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
from typing import Callable, Dict, Iterable, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info

from .features import extract_features
from .sharding import broadcast

__all__ = ['FEATURE_KEYS', 'feature_cache_key', 'load_features', 'sample_list', 'save_features',
           'sha256_file', 'state_dict_sha256', 'train_test_features']

FEATURE_KEYS = ('train_features', 'train_labels', 'test_features', 'test_labels')


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def state_dict_sha256(model: torch.nn.Module) -> str:
    """Hex sha256 of a model's state (names and values): the identity of
    weights that live in no file, e.g. a random initialisation."""
    digest = hashlib.sha256()
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def sample_list(dataset) -> Optional[list]:
    """(path, label) of every sample of an mmengine data set, or None."""
    if not hasattr(dataset, 'get_data_info'):
        return None
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return [(d.get('img_path'), int(d.get('gt_label', -1))) for d in infos]


def feature_cache_key(weights: str, datasets: Iterable, extra: Iterable = ()) -> Optional[str]:
    """A key for cached features: ``weights`` (e.g. the checkpoint's sha256),
    the sample lists (path, label) of ``datasets`` and ``extra`` strings
    (pipeline, model config, teacher/student). None when a dataset does not
    list its samples (no caching). Image contents are not read: an image
    replaced in place under the same name is not noticed."""
    digest = hashlib.sha256(weights.encode())
    for dataset in datasets:
        samples = sample_list(dataset)
        if samples is None:
            return None
        digest.update(json.dumps(samples).encode())
    for item in extra:
        digest.update(str(item).encode())
    return digest.hexdigest()[:32]


def save_features(path: str, train_features, train_labels, test_features, test_labels) -> None:
    """Write the four arrays as an ``.npz`` (atomically: a killed run leaves no half file)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp.npz'
    np.savez(tmp, train_features=np.asarray(train_features, dtype=np.float32),
             train_labels=np.asarray(train_labels, dtype=np.int64),
             test_features=np.asarray(test_features, dtype=np.float32),
             test_labels=np.asarray(test_labels, dtype=np.int64))
    os.replace(tmp, path)


def load_features(path: str) -> Dict[str, np.ndarray]:
    """Read a features ``.npz``; a clear error for a missing file or array.

    The file is checked before anything is read: it must be a zip archive
    (what ``np.savez`` writes), and arrays are read with
    ``allow_pickle=False``: an array of Python objects is refused, not
    unpickled. Shapes are checked by :func:`hssl.evaluation.knn_accuracy`
    (count and width mismatches, k larger than the training set)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'features file {path!r} does not exist')
    if not zipfile.is_zipfile(path):
        raise ValueError(f'{path} is not an .npz archive of arrays (np.savez writes a zip '
                         'archive; this file is not one)')
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in FEATURE_KEYS if k not in npz.files]
            if missing:
                raise ValueError(f'{path}: missing array(s) {missing}; a features file holds '
                                 f'{list(FEATURE_KEYS)}, this one has {sorted(npz.files)}')
            arrays = {}
            for key in FEATURE_KEYS:
                try:
                    arrays[key] = npz[key]
                except ValueError as err:
                    what = ('holds Python objects, not numbers (refused: reading it would unpickle '
                            'it)' if 'allow_pickle' in str(err) else f'cannot be read ({err})')
                    raise ValueError(f'{path}: array {key!r} {what}') from None
            return arrays
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(f'{path} is a damaged or truncated .npz archive ({err})') from None


def _cache_problem(arrays: Dict[str, np.ndarray], samples: Sequence[list]) -> Optional[str]:
    """Why cached arrays are not the features of these samples, or None."""
    for split, listed in zip(('train', 'test'), samples):
        labels = arrays[f'{split}_labels']
        if len(labels) != len(listed) or len(arrays[f'{split}_features']) != len(listed):
            return (f'{len(labels)} {split} labels and {len(arrays[f"{split}_features"])} '
                    f'features for {len(listed)} images')
        if not np.array_equal(labels, [label for _, label in listed]):
            return f'the {split} labels differ from those of the images'
    return None


def _read_cache(path: str, samples: Sequence[list], log: Callable[[str], None]):
    """The cached arrays if ``path`` holds the features of ``samples``, else None
    (a one-line message says why they are extracted again)."""
    if not osp.isfile(path):
        return None
    try:
        arrays = load_features(path)
    except ValueError as err:
        log(f'feature cache {path} is unreadable ({err}); extracting the features again')
        return None
    problem = _cache_problem(arrays, samples)
    if problem:
        log(f'feature cache {path} does not match the data ({problem}); extracting the '
            'features again')
        return None
    log(f'features from the cache: {path}')
    return arrays


def train_test_features(model: Union[torch.nn.Module, Callable[[], torch.nn.Module]],
                        datasets: Sequence, weights: Union[str, Callable[[], str], None] = None,
                        key_extra: Iterable = (), cache_dir: Optional[str] = None,
                        batch_size: int = 128, num_workers: int = 2, use_teacher: bool = True,
                        log: Callable[[str], None] = print) -> Optional[Dict[str, np.ndarray]]:
    """Features of a (train, test) pair of built data sets, cached.

    Returns the four arrays of :data:`FEATURE_KEYS` and ``train_files`` (the
    train images' paths, or None) on rank 0, None on the other ranks; every
    rank must call it (the extraction is sharded, see
    :func:`hssl.evaluation.extract_features`).

    ``model``: the model, or a function that builds it, called only when the
    features are extracted (a cache hit loads no checkpoint) or when
    ``weights`` is None. ``weights``: the identity of the weights in the cache
    key, e.g. :func:`sha256_file` of the checkpoint, or a function that
    returns it (called on rank 0 only); None: the model's values
    (:func:`state_dict_sha256`, for weights that live in no file).
    ``key_extra``: further key items (data set configs, model config,
    branch). ``cache_dir`` None: neither read nor write a cache.

    A cache file is used only when it is readable and holds as many features
    and the same labels as the data sets' images; otherwise one line through
    ``log`` says why, and the features are extracted and written again.
    """
    rank, _ = get_dist_info()
    samples = [sample_list(ds) for ds in datasets]
    build = model if callable(model) and not isinstance(model, torch.nn.Module) else None
    model = None if build else model
    if model is None and weights is None and cache_dir is not None:
        model = build()  # on every rank: the same (seeded) weights
    cached, path = None, None
    if rank == 0 and cache_dir is not None:
        ident = weights() if callable(weights) else weights
        key = feature_cache_key(ident or state_dict_sha256(model), datasets, key_extra)
        path = key and osp.join(cache_dir, f'{key}.npz')
        cached = path and _read_cache(path, samples, log)
    files = [p for p, _ in samples[0]] if samples[0] else None
    if broadcast(cached is not None):
        return dict(cached, train_files=files) if rank == 0 else None
    if model is None:
        model = build()
    feats = [extract_features(model, ds, batch_size, num_workers, use_teacher,
                              desc=f'{split} features')
             for split, ds in zip(('train', 'test'), datasets)]
    if rank != 0:
        return None
    (train_x, train_y), (test_x, test_y) = feats
    if path:
        save_features(path, train_x, train_y, test_x, test_y)
        log(f'features cached at {path} (evaluate again with --features {path})')
    return dict(train_features=train_x.numpy(), train_labels=train_y,
                test_features=test_x.numpy(), test_labels=test_y, train_files=files)
