"""The views a config's training pipeline makes of one image, unpacked.

Used by ``tools/analysis/browse_dataset.py`` (to draw them) and
``tools/analysis/get_flops.py`` (to count a training step on views of the config's
sizes). The pipeline is the config's ``train_dataloader.dataset.pipeline`` without its
packing step, so the result keeps what packing would turn into tensors: ``img`` (one
uint8 HWC BGR array per view), and per view, where the pipeline adds them,
``patch_mask`` (iBOT's masked patches, bool (h, w)), ``cutout_box`` (top, left,
height, width) and ``view_type`` (global, cutout, local).
"""
import copy
from typing import List, Optional

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from hssl.registry import DATASETS, TRANSFORMS

PACKING = ('PackInputs', 'PackSelfSupInputs')


def unpacked_pipeline(cfg: Config, keep_loading: bool = True) -> List[dict]:
    """The training pipeline of ``cfg`` without packing (and without loading when
    ``keep_loading`` is False: for an image given as an array)."""
    try:
        pipeline = cfg.train_dataloader.dataset.pipeline
    except AttributeError:
        raise KeyError('the config has no train_dataloader.dataset.pipeline') from None
    kept = [copy.deepcopy(t) for t in pipeline
            if not (isinstance(t, dict) and t.get('type') in PACKING)]
    if not keep_loading:
        kept = [t for t in kept if not (isinstance(t, dict) and 'Load' in str(t.get('type')))]
    return kept


def build_view_dataset(cfg: Config):
    """The config's training data set, its pipeline unpacked (in the config's scope)."""
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg['pipeline'] = unpacked_pipeline(cfg)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'hssl')):
        return DATASETS.build(ds_cfg)


def views_of_array(cfg: Config, img: Optional[np.ndarray] = None, size: int = 256) -> dict:
    """Run the unpacked pipeline (loading left out) on ``img`` (uint8 HWC BGR; default a
    grey ``size`` x ``size`` image); the results with ``img`` a list of views."""
    if img is None:
        img = np.full((size, size, 3), 128, dtype=np.uint8)
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'hssl')):
        for t in unpacked_pipeline(cfg, keep_loading=False):
            results = (TRANSFORMS.build(t) if isinstance(t, dict) else t)(results)
            if results is None:
                raise ValueError(f'the training pipeline dropped the image at {t}')
    if not isinstance(results['img'], list):
        results['img'] = [results['img']]
    return results


def per_view(results: dict, key: str) -> list:
    """``results[key]`` as one entry per view (None where a view has none)."""
    n = len(results['img'])
    value = results.get(key)
    if isinstance(value, list) and len(value) == n:
        return value
    return [value] * n if n == 1 else [None] * n
