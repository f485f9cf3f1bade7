"""The auxiliary-head search (Sec. 3.5, Eq. 6-8): config surgery and the tool end to end."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from hssl.apis.search import (chosen_head_config, head_configs, rank_heads, search_config,
                              subset_indices)
from hssl.registry import MODELS
from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')


def test_heads_side_by_side_take_the_config_head_options():
    cfg = Config.fromfile(TINY)  # its own head: ConvNeXt, depth 2, first shortcut removed
    heads = head_configs(cfg, ['convnext', 'resmlp', 'PoolFormerHead'])
    assert heads[0] == dict(type='ConvNeXtHead', name='convnext', depth=2, first_shortcut=False)
    # ResMLP's token mixing is sized for the 32 px / patch 8 grid: 4x4
    assert heads[1] == dict(type='ResMLPHead', name='resmlp', depth=2, first_shortcut=False,
                            grid_size=4)
    # a registered type name works too (a user's own head)
    assert heads[2] == dict(type='PoolFormerHead', name='PoolFormerHead', depth=2,
                            first_shortcut=False)
    assert head_configs(cfg, ['vit'], depth=1)[0]['depth'] == 1
    with pytest.raises(KeyError, match='unknown head "mlpmixer"'):
        head_configs(cfg, ['mlpmixer'])
    with pytest.raises(ValueError, match='named twice'):
        head_configs(cfg, ['vit', 'vit'])


def test_data_fraction_is_a_seeded_random_subset_of_the_configured_samples():
    dataset = dict(type='EmbeddedDigits', indices=32)
    half = subset_indices(dataset, 0.5, seed=0)
    assert len(half) == 16 and half == sorted(set(half)) and all(0 <= i < 32 for i in half)
    assert half == subset_indices(dataset, 0.5, seed=0)
    assert half != subset_indices(dataset, 0.5, seed=1)
    assert half != list(range(16))  # not simply the first samples (class-ordered folders)
    assert subset_indices(dict(indices=[5, 7, 9, 11]), 0.5, seed=3) in (
        [5, 7], [5, 9], [5, 11], [7, 9], [7, 11], [9, 11])
    with pytest.raises(ValueError, match='--data-fraction'):
        subset_indices(dataset, 0.0)
    cfg = search_config(Config.fromfile(TINY), ['convnext', 'vit'], data_fraction=0.25)
    assert len(cfg.train_dataloader.dataset.indices) == 8
    assert [h['name'] for h in cfg.model.network.auxiliary] == ['convnext', 'vit']


def test_rank_is_eq8_argmax_first():
    assert rank_heads({'a': 0.1, 'b': 0.7, 'c': 0.3}) == [('b', 0.7), ('c', 0.3), ('a', 0.1)]


def test_chosen_config_replaces_any_auxiliary(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text(f"_base_ = {TINY!r}\n"
                    "model = dict(network=dict(auxiliary=[dict(type='ViTHead', name='x')]))\n")
    out = tmp_path / 'out'
    out.mkdir()
    text = chosen_head_config(str(base), dict(type='SwinHead', name='swin', depth=1), str(out),
                              note='chosen')
    (out / 'chosen.py').write_text(text)
    cfg = Config.fromfile(str(out / 'chosen.py'))
    assert cfg.model.network.auxiliary == dict(type='SwinHead', depth=1)
    assert text.startswith('# chosen\n_base_ = ')


def test_search_tool_end_to_end_ranks_by_reported_discrepancy(tmp_path, data_root):
    work = tmp_path / 'search'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'search_heads.py'), TINY, '--depth', '1',
         '--epochs', '1', '--data-fraction', '0.5', '--work-dir', str(work),
         '--heads', 'convnext', 'resmlp', 'resnet', 'poolformer', 'swin', 'vit'],
        capture_output=True, text=True, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')])))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(work / 'search_result.json') as f:
        result = json.load(f)
    values = result['heads']
    assert set(values) == {'convnext', 'resmlp', 'resnet', 'poolformer', 'swin', 'vit'}
    ranked = [r['head'] for r in result['ranking']]
    assert ranked == sorted(values, key=values.get, reverse=True)
    assert [r['discrepancy'] for r in result['ranking']] == [values[h] for h in ranked]
    assert result['chosen'] == ranked[0] and result['images'] == 16 and result['iterations'] == 2
    # the printed table is the same ranking
    table = [line.split() for line in proc.stdout.splitlines()
             if line.strip()[:1].isdigit() and len(line.split()) == 3]
    assert [row[1] for row in table] == ranked
    assert (work / 'search_discrepancy.png').read_bytes()[:4] == b'\x89PNG'
    chosen = Config.fromfile(result['chosen_config'])
    assert chosen.model.network.auxiliary['type'] == result['chosen_head']['type']
    assert chosen.train_cfg.max_epochs == 2  # the input config's schedule, not the search's
    MODELS.build(chosen.model)  # ready to train


def test_search_cost_times_both_models(data_root, capsys, monkeypatch):
    import runpy
    tool = osp.join(REPO, 'tools', 'analysis', 'search_cost.py')
    monkeypatch.setattr(sys, 'argv', [tool, TINY, '--heads', 'convnext', 'vit', '--depth', '1',
                                      '--iters', '2', '--warmup', '0', '--batches', '1'])
    runpy.run_path(tool, run_name='__main__')
    out = capsys.readouterr().out
    lines = {line.split(':')[0].strip(): line for line in out.splitlines()
             if ' s/iteration' in line or line.strip().startswith('ratio:')}
    assert set(lines) == {'2 heads', '1 head (convnext)', 'ratio'}
    seconds = {k: float(v.split(':')[1].split()[0]) for k, v in lines.items() if k != 'ratio'}
    ratio = float(lines['ratio'].split(':')[1].split('x')[0])
    assert ratio == pytest.approx(seconds['2 heads'] / seconds['1 head (convnext)'], abs=0.01)
