"""Config surgery for the auxiliary-head search (HSSL Sec. 3.5, Eq. 6-8).

* :func:`search_config`: the input config with all candidate heads side by
  side (``auxiliary=[dict(type=..., name=...), ...]``: Eq. 6-7, loss averaged
  over the heads) and optionally a random fraction of the training data.
* :func:`rank_heads`: Eq. 8, heads sorted by decreasing discrepancy.
* :func:`chosen_head_config`: the text of a ready-to-train config, the input
  config with the chosen head only.
"""
import copy
import difflib
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from hssl.registry import DATASETS, MODELS

# short names of the heads of the paper's Tab. I
HEAD_TYPES = {
    'convnext': 'ConvNeXtHead',
    'resmlp': 'ResMLPHead',
    'resnet': 'ResNetHead',
    'poolformer': 'PoolFormerHead',
    'swin': 'SwinHead',
    'vit': 'ViTHead',
}
# options of the config's own head that every candidate takes over (Sec. 3.6 designs)
SHARED_OPTIONS = ('depth', 'first_shortcut')


def head_configs(cfg: Config, heads: Sequence[str], depth: Optional[int] = None) -> List[dict]:
    """One auxiliary-head config per name of ``heads``.

    A name is a short name of :data:`HEAD_TYPES` or a registered head type
    (e.g. a user's ``MixerHead``). Every head takes the ``depth`` and
    ``first_shortcut`` of the config's own (single) auxiliary head, if it has
    one, or ``depth``. ResMLP's cross-patch linear is sized for the backbone's
    grid at ``img_size``.
    """
    if not heads:
        raise ValueError('search: give at least one head')
    if len(set(heads)) != len(heads):
        raise ValueError(f'search: a head is named twice in {list(heads)}')
    network = cfg.model.network
    own = network.get('auxiliary')
    shared = {k: own[k] for k in SHARED_OPTIONS if isinstance(own, dict) and k in own}
    if depth is not None:
        shared['depth'] = depth
    backbone = network.backbone
    grid = backbone.get('img_size', 224) // backbone.get('patch_size', 16)
    cfgs = []
    for name in heads:
        head_type = HEAD_TYPES.get(name.lower(), name)
        if head_type not in HEAD_TYPES.values() and MODELS.get(head_type) is None:
            close = difflib.get_close_matches(name.lower(), HEAD_TYPES, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ''
            raise KeyError(f'search: unknown head "{name}".{hint} Use one of '
                           f'{", ".join(sorted(HEAD_TYPES))} or a registered auxiliary head type '
                           '(import its module with custom_imports in the config)')
        head = dict(type=head_type, name=name, **shared)
        if head_type == 'ResMLPHead':
            head['grid_size'] = grid
        cfgs.append(head)
    return cfgs


def subset_indices(dataset_cfg: dict, fraction: float, seed: int = 0,
                   scope: str = 'hssl') -> List[int]:
    """A sorted random ``fraction`` of the data set's samples (at least one).

    An ``indices`` already in ``dataset_cfg`` (an int n: the first n samples,
    or a list) is the set sampled from.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'--data-fraction must be in (0, 1], got {fraction}')
    own = dataset_cfg.get('indices')
    if own is None:
        with DefaultScope.overwrite_default_scope(scope):
            pool = np.arange(len(DATASETS.build(copy.deepcopy(dataset_cfg))))
    else:
        pool = np.arange(own) if isinstance(own, int) else np.asarray(own)
    count = max(1, int(round(fraction * len(pool))))
    chosen = np.random.default_rng(seed).choice(len(pool), size=count, replace=False)
    return sorted(int(i) for i in pool[chosen])


def search_config(cfg: Config, heads: Sequence[str], depth: Optional[int] = None,
                  data_fraction: Optional[float] = None, seed: int = 0) -> Config:
    """A copy of ``cfg`` that trains all ``heads`` side by side (Eq. 6-7)."""
    if data_fraction is not None and not 0 < data_fraction <= 1:
        raise ValueError(f'--data-fraction must be in (0, 1], got {data_fraction}')
    cfg = copy.deepcopy(cfg)
    cfg.model.network.auxiliary = head_configs(cfg, heads, depth)
    if data_fraction is not None and data_fraction < 1:
        dataset = cfg.train_dataloader.dataset
        dataset.indices = subset_indices(dataset, data_fraction, seed,
                                         cfg.get('default_scope', 'hssl'))
    return cfg


def rank_heads(discrepancy: Dict[str, float]) -> List[Tuple[str, float]]:
    """Eq. 8: ``(head, D)`` by decreasing D; the first is the chosen head."""
    if not discrepancy:
        raise ValueError('search: no discrepancy to rank')
    return sorted(discrepancy.items(), key=lambda item: (-item[1], item[0]))


def chosen_head_config(config_path: str, head: dict, out_dir: str, note: str = '') -> str:
    """Text of a config that is ``config_path`` with only ``head`` as auxiliary head."""
    head = {k: v for k, v in head.items() if k != 'name'}
    base = osp.relpath(osp.abspath(config_path), osp.abspath(out_dir))
    options = ', '.join(f'{k}={v!r}' for k, v in head.items())
    lines = [f'# {line}' for line in note.splitlines()]
    lines += [f'_base_ = {base!r}',
              f'model = dict(network=dict(auxiliary=dict(_delete_=True, {options})))', '']
    return '\n'.join(lines)
