"""Discrepancy D (Eq. 5), its hook and its plot (Fig. 6)."""
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from hssl.apis import build_runner
from hssl.evaluation.discrepancy import compute_discrepancy, discrepancy_pairs, kl_discrepancy
from hssl.registry import MODELS
from tests import DATA, REPO

CONVNEXT = dict(type='ConvNeXtHead', depth=1)
RESMLP = dict(type='ResMLPHead', depth=1, grid_size=8)

# the tools import this checkout's hssl
THIS_CHECKOUT = dict(os.environ,
                     PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))


def test_identical_distributions_give_zero():
    logits = torch.randn(5, 16)
    assert torch.allclose(kl_discrepancy(logits, logits.clone(), 0.04), torch.zeros(5), atol=1e-6)
    # a shift of all logits leaves the softmax unchanged
    assert torch.allclose(kl_discrepancy(logits, logits + 3.0, 0.1), torch.zeros(5), atol=1e-6)


def test_matches_hand_computation():
    # T = 0.5: z1^b = softmax([0, ln 3]) = [1/4, 3/4], z1^h = softmax([0, 0]) = [1/2, 1/2]
    base = torch.tensor([[0.0, 0.5 * math.log(3.0)]])
    aux = torch.zeros(1, 2)
    d = kl_discrepancy(base, aux, temperature=0.5)
    # D = -(z1^b)^T log(z1^h / z1^b) = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812 (KL(b || h))
    assert d.item() == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), abs=1e-6)
    assert d.item() == pytest.approx(0.130812, abs=1e-6)
    # not symmetric: KL(h || b) = 1/2 ln 2 + 1/2 ln(2/3) = 0.143841
    assert kl_discrepancy(aux, base, 0.5).item() == pytest.approx(0.143841, abs=1e-6)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r'\(4, 8\) and \(4, 9\)'):
        kl_discrepancy(torch.zeros(4, 8), torch.zeros(4, 9), 0.1)


def _batch(n, seed):
    g = torch.Generator().manual_seed(seed)
    return {'inputs': [torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)],
            'data_samples': None}


def test_one_value_per_side_by_side_head_averaged_over_images(tiny_dino):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dino(auxiliary=[dict(CONVNEXT, name='convnext'),
                                              dict(RESMLP, name='resmlp')]))
    assert discrepancy_pairs(model.teacher.module) == [
        ('convnext', 'base_convnext', 'aux_convnext'), ('resmlp', 'base_resmlp', 'aux_resmlp')]
    model.criteria['aux_convnext'].teacher_temp = 0.07  # each pair at its loss's temperature
    loader = [_batch(3, 0), _batch(1, 1)]  # unequal batches: a mean over images, not batches
    result = compute_discrepancy(model, loader)

    net = model.teacher.module
    expected = {}
    with torch.no_grad():
        for head, temp in (('convnext', 0.07), ('resmlp', 0.04)):
            per_image = []
            for batch in loader:
                x = batch['inputs'][0].float() / 255  # the tiny preprocessor: RGB flip, / 255
                out = net([x.flip(1)])
                per_image.append(kl_discrepancy(out[f'base_{head}'].cls, out[f'aux_{head}'].cls,
                                                temp))
            expected[head] = torch.cat(per_image).mean().item()
    assert set(result) == {'convnext', 'resmlp'}
    for head in result:
        assert result[head] == pytest.approx(expected[head], rel=1e-5)
        assert result[head] > 0
    fixed = compute_discrepancy(model, loader, temperature=0.04)
    assert fixed['resmlp'] == pytest.approx(result['resmlp'], rel=1e-6)
    assert fixed['convnext'] != pytest.approx(result['convnext'], rel=1e-3)


def test_baseline_network_is_refused(tiny_dino):
    model = MODELS.build(tiny_dino())
    with pytest.raises(ValueError, match='no auxiliary head'):
        compute_discrepancy(model, [_batch(2, 0)])


def test_hook_logs_scalars_and_plot_draws_them(tmp_path, data_root):
    cfg = Config.fromfile(osp.join(DATA, 'tiny_digits_config.py'))
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'test_discrepancy_{os.getpid()}'
    cfg.merge_from_dict({'train_cfg.max_epochs': 2,
                         'model.network.auxiliary': [dict(CONVNEXT, name='convnext'),
                                                     dict(RESMLP, grid_size=4, name='resmlp')]})
    cfg.custom_hooks.append(dict(type='DiscrepancyHook', interval=1, max_batches=1))
    runner = build_runner(cfg)
    runner.train()

    rows = []
    for path in glob.glob(osp.join(tmp_path, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            rows += [json.loads(line) for line in f if 'discrepancy/convnext' in line]
    assert [r['step'] for r in rows] == [4, 8]  # after each epoch of 4 iterations
    last = runner.message_hub.get_info('discrepancy')
    assert rows[-1]['discrepancy/convnext'] == pytest.approx(last['convnext'])
    assert rows[-1]['discrepancy/resmlp'] == pytest.approx(last['resmlp'])

    out = tmp_path / 'fig6.png'
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'analysis',
                                                    'plot_discrepancy.py'),
                           str(tmp_path), '--out', str(out)],
                          capture_output=True, text=True, cwd=REPO, env=THIS_CHECKOUT)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'convnext: 2 points' in proc.stdout and 'resmlp: 2 points' in proc.stdout


def test_plot_without_discrepancy_scalars_fails_clearly(tmp_path):
    log = tmp_path / 'scalars.json'
    log.write_text(json.dumps({'loss': 1.0, 'step': 1}) + '\n')
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'analysis',
                                                    'plot_discrepancy.py'),
                           str(log), '--out', str(tmp_path / 'x.png')],
                          capture_output=True, text=True, cwd=REPO, env=THIS_CHECKOUT)
    assert proc.returncode != 0
    assert 'no "discrepancy/<head>" scalars' in proc.stderr and str(log) in proc.stderr
