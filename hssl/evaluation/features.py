"""Backbone features for k-NN: extraction (one or several processes), DINO's
evaluation transform, and a cache of the features as ``.npz``.

The ``.npz`` layout is the one of ``tools/knn_eval.py --features``:
``train_features`` (N, D), ``train_labels`` (N,), ``test_features`` (M, D),
``test_labels`` (M,).
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import default_collate
from torch import distributed as dist
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

__all__ = ['FEATURE_KEYS', 'build_eval_dataset', 'dino_eval_pipeline', 'knn_dataset_cfgs', 'extract_features', 'extract_dataset_features',
           'feature_cache_key', 'load_features', 'save_features', 'sha256_file']

FEATURE_KEYS = ('train_features', 'train_labels', 'test_features', 'test_labels')


def build_eval_dataset(cfg):
    """Build a labelled evaluation data set in test mode.

    In training an unreadable image is skipped and replaced by another one
    (``ImageFolder.max_bad_samples``); in evaluation the replacement would carry
    the wrong label, so test mode makes it an error that names the file.
    """
    from hssl.registry import DATASETS
    if not isinstance(cfg, dict):  # an already built data set
        return cfg
    return DATASETS.build(dict(cfg, test_mode=True))


def dino_eval_pipeline(img_size: int = 224) -> List[dict]:
    """DINO's k-NN / linear evaluation transform: resize the short edge to
    ``img_size * 256 / 224`` (bicubic), centre crop ``img_size``."""
    return [
        dict(type='LoadImage'),
        dict(type='ResizeEdge', scale=int(round(img_size * 256 / 224)), edge='short',
             backend='pillow', interpolation='bicubic'),
        dict(type='CenterCrop', crop_size=img_size),
        dict(type='PackInputs'),
    ]


def knn_dataset_cfgs(cfg, config_path: str, train_dir: Optional[str] = None,
                     val_dir: Optional[str] = None) -> List[dict]:
    """The (train, test) k-NN data set configs of a model config: two labelled
    folders given by the user, through the config's ``knn_pipeline`` or DINO's
    evaluation transform at the backbone's size; else the config's own
    ``knn_train_dataset`` / ``knn_test_dataset``."""
    if train_dir:
        backbone = cfg.model.get('network', {}).get('backbone', {})
        pipeline = cfg.get('knn_pipeline') or dino_eval_pipeline(backbone.get('img_size', 224))
        return [dict(type='ImageFolder', data_root=d, pipeline=pipeline) for d in (train_dir, val_dir)]
    if 'knn_train_dataset' not in cfg or 'knn_test_dataset' not in cfg:
        raise KeyError(f'{config_path} defines no knn_train_dataset / knn_test_dataset: '
                       'give --train-dir and --val-dir')
    return [cfg.knn_train_dataset, cfg.knn_test_dataset]


@torch.no_grad()
def extract_features(model, loader: DataLoader, use_teacher: bool = True,
                     desc: str = 'features', progress: bool = True) -> Tuple[torch.Tensor, np.ndarray]:
    """Backbone cls features of every sample of ``loader`` (teacher by default)
    and their labels, in loader order. ``model`` is an hssl algorithm."""
    feats, labels = [], []
    for data in tqdm(loader, desc=desc, leave=False, disable=not progress):
        data = model.data_preprocessor(data, False)
        feats.append(model.extract_feat(data['inputs'], use_teacher=use_teacher).float().cpu())
        labels.extend(int(s.gt_label) for s in data['data_samples'])
    return torch.cat(feats), np.asarray(labels, dtype=np.int64)


def _dist_info() -> Tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def interleave(parts: Sequence[Tuple[torch.Tensor, np.ndarray]]):
    """Undo the round-robin sharding: rank ``r`` held samples ``r::world``."""
    world = len(parts)
    total = sum(len(p[1]) for p in parts)
    feats = torch.empty(total, parts[0][0].shape[1], dtype=parts[0][0].dtype)
    labels = np.empty(total, dtype=np.int64)
    for rank, (f, y) in enumerate(parts):
        feats[rank::world] = f
        labels[rank::world] = y
    return feats, labels


def extract_dataset_features(model, dataset: Dataset, batch_size: int = 128,
                             num_workers: int = 2, use_teacher: bool = True,
                             desc: str = 'features'):
    """Features and labels of ``dataset`` in dataset order.

    In a distributed run (``torch.distributed`` initialised) each rank
    extracts the samples ``rank::world_size`` and rank 0 gathers them; then
    rank 0 gets the result and the other ranks ``None``. Every rank must call
    this. The model is put in eval mode meanwhile (and restored).
    """
    rank, world = _dist_info()
    shard = dataset if world == 1 else Subset(dataset, range(rank, len(dataset), world))
    loader = DataLoader(shard, batch_size=batch_size, num_workers=num_workers, shuffle=False,
                        collate_fn=default_collate)
    was_training = model.training
    model.eval()
    try:
        if len(shard):
            part = extract_features(model, loader, use_teacher, desc, progress=rank == 0)
        else:
            part = (torch.empty(0, 0), np.empty(0, dtype=np.int64))
    finally:
        model.train(was_training)
    if world == 1:
        return part
    parts = [None] * world if rank == 0 else None
    dist.gather_object(part, parts, dst=0)
    if rank != 0:
        return None
    width = max(p[0].shape[1] for p in parts)
    parts = [(p[0].reshape(len(p[1]), width), p[1]) for p in parts]
    return interleave(parts)


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


def _samples(dataset) -> Optional[list]:
    """(path, label) of every sample of an mmengine dataset, or None."""
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
        samples = _samples(dataset)
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
