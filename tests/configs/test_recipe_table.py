"""tools/analysis/recipe_table.py: docs/user_guides/recipes.md is the page the
configs give, every recipe config is on it, every difference from the official
training is explained, and the extractors read the config forms right."""
import os.path as osp
import re
import sys

import pytest
from mmengine.config import Config

from tests import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import recipe_extract as rx  # noqa: E402
import recipe_official as ro  # noqa: E402
import recipe_table as rt  # noqa: E402

REGENERATE = f'python tools/analysis/recipe_table.py --write {rt.PAGE}'


@pytest.fixture(scope='module')
def recipe_rows():
    return {config: rt.rows(config) for config in ro.RECIPES}


def test_committed_page_is_the_generated_one():
    with open(osp.join(REPO, rt.PAGE), encoding='utf-8') as f:
        committed = f.read()
    assert committed == rt.render(), f'{rt.PAGE} is out of date: {REGENERATE}'


def test_every_recipe_config_has_an_entry():
    listed = (set(ro.RECIPES) | set(ro.SCALED_DOWN) | set(rt.ablation_configs())
              | set(ro.VARIANTS))
    unlisted = sorted(set(rt.recipe_configs()) - listed)
    assert not unlisted, f'add to tools/analysis/recipe_official.py: {unlisted}'
    gone = sorted(c for c in listed if not osp.isfile(osp.join(REPO, c)))
    assert not gone, f'recipe_official.py lists configs that do not exist: {gone}'


def test_every_difference_is_explained(recipe_rows):
    unexplained = [(ro.RECIPES[c][0], key) for c, rows in recipe_rows.items()
                   for key, _, _, _, same in rows
                   if not same and not rt.explanation(ro.RECIPES[c][0], key)]
    assert not unexplained, ('explain these in EXPLAIN (or OPEN) of '
                             f'tools/analysis/recipe_official.py: {unexplained}')


def test_no_explanation_is_left_for_a_row_that_agrees(recipe_rows):
    differing = {(ro.RECIPES[c][0], key) for c, rows in recipe_rows.items()
                 for key, _, _, _, same in rows if not same}
    stale = [(recipe, key) for notes in (ro.EXPLAIN, ro.OPEN) for recipe in notes
             for key in notes[recipe] if (recipe, key) not in differing]
    stale += [('every recipe', key) for key in list(ro.EXPLAIN_ALL) + list(ro.OPEN_ALL)
              if not any(k == key for _, k in differing)]
    assert not stale, f'hssl now agrees: remove from recipe_official.py: {stale}'


def test_gpus_agree_with_the_config_header():
    """A config that says "N GPUs x M" in its own text trains N x M (its per-GPU batch)."""
    checked = 0
    for config, (_, gpus) in ro.RECIPES.items():
        with open(osp.join(REPO, config), encoding='utf-8') as f:
            stated = re.search(r'(\d+) GPUs x (\d+)', f.read())
        if stated:
            per_gpu = rt.load(config).train_dataloader.batch_size
            assert (int(stated[1]), int(stated[2])) == (gpus, per_gpu), config
            checked += 1
    assert checked >= 4, "recipe configs no longer state \"N GPUs x M\" in their header"


def _cfg(**kw):
    base = dict(
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.04)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10),
            dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=10, end=100)],
        auto_scale_lr=dict(base_batch_size=256, enable=False))
    base.update(kw)
    return Config(base)


def test_peak_lr_follows_auto_scale_lr():
    # 8 GPUs x 64 = 512 images: lr x 512 / 256 when scaling is on, as configured otherwise
    on = _cfg(auto_scale_lr=dict(base_batch_size=256, enable=True))
    assert rx._peak_lr(on, 512) == pytest.approx(1e-3)
    assert rx._lr_rule(on) == 'x total / 256, always'
    off = _cfg()
    assert rx._peak_lr(off, 512) == pytest.approx(5e-4)
    assert rx._lr_rule(off) == 'x total / 256, only with --auto-scale-lr'


def test_lr_schedule_forms():
    assert rx._lr_schedule(_cfg(), 5e-4) == pytest.approx((10, 5e-8, 1e-6))
    one = _cfg(param_scheduler=[dict(type='WarmupCosineLR', warmup=10, eta_min=1e-6,
                                     by_epoch=True, begin=0, end=100)])
    assert rx._lr_schedule(one, 5e-4) == pytest.approx((10, 0.0, 1e-6))
    with pytest.raises(rx.RecipeFormError, match='OneCycleLR'):
        rx._lr_schedule(_cfg(param_scheduler=[dict(type='OneCycleLR', eta_max=1e-3)]), 5e-4)


def test_weight_decay_schedule():
    cosine = _cfg(param_scheduler=[dict(type='CosineAnnealingParamScheduler',
                                        param_name='weight_decay', eta_min_ratio=10.0)])
    assert rx._weight_decay(cosine) == pytest.approx((0.04, 0.4))
    assert rx._weight_decay(_cfg()) == pytest.approx((0.04, 0.04))  # no schedule: constant


def test_clip_forms():
    def clip(**kw):
        cfg = _cfg()
        cfg.optim_wrapper.update(kw)
        return rx._clip(cfg)

    assert clip() == (None, 'none')
    assert clip(clip_grad=dict(max_norm=3.0)) == (3.0, 'one total norm over all parameters')
    assert clip(clip_grad=dict(type='per_tensor', max_norm=0.3)) == (0.3, 'per tensor')
    with pytest.raises(rx.RecipeFormError, match='clip_grad'):
        clip(clip_grad=dict(type='value', clip_value=1.0))


def test_comparison_rules():
    assert rt.same('total_batch', (8, 64, 512), (16, 32, 512))  # the total counts
    assert not rt.same('total_batch', 256, (8, 64, 512))
    assert rt.same('min_lr', 1e-6, 1.0000000000000002e-06)
    assert not rt.same('norm_last_layer', True, 1)  # yes/no rows compare as booleans
    assert not rt.same('global_crops', (2, 224, (0.4, 1.0)), (2, 224, (0.25, 1.0)))


def test_a_difference_is_flagged_with_its_explanation(monkeypatch):
    config = 'configs/dino/dino_vits16_100e_in1k.py'
    title, reference, values = ro.OFFICIAL['dino_vits16']
    monkeypatch.setitem(ro.OFFICIAL, 'dino_vits16',
                        (title, reference, dict(values, epochs=(300, 'a README'))))
    monkeypatch.setitem(ro.EXPLAIN, 'dino_vits16',
                        dict(ro.EXPLAIN['dino_vits16'], epochs='because of X'))
    page = '\n'.join(rt.recipe_section(config))
    assert f'| **{rt.FLAG}** | epochs | 300 | a README | 100 |' in page
    assert '- **epochs**: because of X' in page


def test_an_unknown_config_form_is_one_line(monkeypatch, capsys):
    def unknown(cfg, gpus):
        raise rx.RecipeFormError('optim_wrapper.clip_grad {} not summarised')

    monkeypatch.setattr(rx, 'extract', unknown)
    assert rt.main([]) == 2
    err = capsys.readouterr().err
    assert err.strip() == 'recipe_table: optim_wrapper.clip_grad {} not summarised'
