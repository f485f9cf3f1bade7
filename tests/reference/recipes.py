"""The official hyper-parameters of every shipped ImageNet recipe, for the tests.

One source: ``tools/analysis/recipe_official.py`` (each value with where it comes
from; it also makes docs/user_guides/recipes.md). Where a recipe differs from the
official run on purpose (explained there, e.g. MoCo v3 trained for 100 rather
than 300 epochs), the schedule is checked at hssl's value of that row, with the
official rule.
"""
import os.path as osp
import sys

from tests import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))  # as tests/configs/test_recipe_table.py
import recipe_official as ro  # noqa: E402

# rows whose official value the recipe does not use, on purpose (see ro.EXPLAIN): hssl's
INTENDED = {'mocov3': dict(epochs=100, warmup_epochs=10)}


def _value(values, key):
    return values[key][0] if key in values else None


def _recipe(recipe_id: str, gpus: int) -> dict:
    _, _, values = ro.OFFICIAL[recipe_id]
    method = recipe_id.split('_')[0]  # dino, ibot, mocov3 or mae
    total = _value(values, 'total_batch')
    clip = _value(values, 'clip_max')
    r = dict(
        method=method, gpus=gpus, total_batch=total[2] if isinstance(total, tuple) else total,
        epochs=_value(values, 'epochs'), warmup_epochs=_value(values, 'warmup_epochs'),
        lr=_value(values, 'base_lr'), min_lr=_value(values, 'min_lr'),
        warmup='linspace' if method in ('dino', 'ibot') else 'fraction',
        weight_decay=_value(values, 'weight_decay'),
        clip=None if clip is None else ('per_tensor', clip),
        momentum=(_value(values, 'teacher_momentum') or (None,))[0])
    if method in ('dino', 'ibot'):
        glob, local = _value(values, 'global_crops'), _value(values, 'local_crops')
        r.update(teacher_temp=_value(values, 'teacher_temp'),
                 freeze_last_layer=_value(values, 'freeze_last_layer'),
                 out_dim=_value(values, 'out_dim'),
                 norm_last_layer=_value(values, 'norm_last_layer'),
                 global_crops_scale=glob[2], local_crops_number=local[0],
                 local_crops_scale=local[2])
    if method == 'ibot':
        _, ratio, var = _value(values, 'mask')
        r.update(pred_ratio=ratio, pred_ratio_var=var,
                 teacher_patch_temp=_value(values, 'teacher_patch_temp'))
    r.update(INTENDED.get(method, {}))
    return r


# config (relative to configs/) -> the official recipe it trains
RECIPES = {path[len('configs/'):]: _recipe(rid, gpus)
           for path, (rid, gpus) in ro.RECIPES.items()}
