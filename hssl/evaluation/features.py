"""Backbone features of a labelled data set: the one way to extract them.

:func:`extract_features` runs a model over a data set (a config or a built
one) and returns its features and labels in data set order, split over the
processes of a ``torchrun`` launch (:mod:`hssl.evaluation.sharding`).
:func:`hssl.evaluation.feature_cache.train_test_features` adds the cache of
``tools/knn_eval.py`` on top. Also here: the evaluation data sets (test mode,
DINO's evaluation transform, a config's k-NN sets).
"""
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.dist import get_dist_info
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader
from tqdm import tqdm

from .sharding import gather_shards, shard

__all__ = ['build_eval_dataset', 'dino_eval_pipeline', 'extract_features', 'knn_dataset_cfgs']


def build_eval_dataset(cfg, scope: Optional[str] = None):
    """Build a labelled evaluation data set in test mode (registry scope
    ``scope``, e.g. a config's ``default_scope``; None: the current one).

    In training an unreadable image is skipped and replaced by another one
    (``ImageFolder.max_bad_samples``); in evaluation the replacement would carry
    the wrong label, so test mode makes it an error that names the file.
    """
    from hssl.registry import DATASETS
    if not isinstance(cfg, dict):  # an already built data set
        return cfg
    if scope is None:
        return DATASETS.build(dict(cfg, test_mode=True))
    with DefaultScope.overwrite_default_scope(scope):
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
def _extract(model, loader: DataLoader, use_teacher: bool, desc: str,
             progress: bool) -> Tuple[torch.Tensor, np.ndarray]:
    feats, labels = [], []
    for data in tqdm(loader, desc=desc, leave=False, disable=not progress):
        data = model.data_preprocessor(data, False)
        feats.append(model.extract_feat(data['inputs'], use_teacher=use_teacher).float().cpu())
        labels.extend(int(s.gt_label) for s in data['data_samples'])
    return torch.cat(feats), np.asarray(labels, dtype=np.int64)


def extract_features(model, dataset, batch_size: int = 128, num_workers: int = 2,
                     use_teacher: bool = True, desc: str = 'features',
                     scope: Optional[str] = None) -> Optional[Tuple[torch.Tensor, np.ndarray]]:
    """Backbone cls features (float32, CPU) and labels (int64) of every sample
    of ``dataset``, in data set order.

    ``model`` is an hssl algorithm (or anything with ``data_preprocessor``,
    ``extract_feat(inputs, use_teacher)``, ``train``/``eval``): the teacher's
    backbone by default. It is put in eval mode meanwhile (and restored).
    ``dataset``: a built data set or its config (built in test mode under
    ``scope``, see :func:`build_eval_dataset`).

    In a distributed run (``torch.distributed`` initialised) each rank
    extracts the samples ``rank::world_size`` and rank 0 gathers them; rank 0
    gets the result and the other ranks None. Every rank must call this.
    """
    rank, _ = get_dist_info()
    part_of = shard(build_eval_dataset(dataset, scope))
    loader = DataLoader(part_of, batch_size=batch_size, num_workers=num_workers, shuffle=False,
                        collate_fn=default_collate)
    was_training = model.training
    model.eval()
    try:
        if len(part_of):
            part = _extract(model, loader, use_teacher, desc, progress=rank == 0)
        else:
            part = (torch.empty(0, 0), np.empty(0, dtype=np.int64))
    finally:
        model.train(was_training)
    return gather_shards(part)
