"""N_s and sIoU (Eq. 3-4, Tab. II) against hand-computed sets; the tool in both modes."""
import contextlib
import io
import json
import math
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch

from hssl.evaluation.complementarity import (AuxiliaryHeadFeatures, complementarity,
                                             knn_top1_predictions)
from hssl.registry import MODELS
from tests import DATA, REPO

TOOL = osp.join(REPO, 'tools', 'analysis', 'complementarity.py')
TINY = osp.join(DATA, 'tiny_digits_config.py')

# 8 test samples, classes 0..7; correct sets: B1 = {0, 1}, B2 = {0, 2, 3, 4}, H = {1, 2, 3, 5, 6}
LABELS = np.arange(8)
WRONG = (LABELS + 1) % 8


def _pred(correct):
    return np.where(np.isin(LABELS, list(correct)), LABELS, WRONG)


BASELINE, HSSL, AUX = _pred({0, 1}), _pred({0, 2, 3, 4}), _pred({1, 2, 3, 5, 6})


def test_matches_hand_computed_sets():
    r = complementarity(LABELS, BASELINE, HSSL, AUX)
    # U - B1 = {2..7}; H ∩ (U - B1) = {2, 3, 5, 6}
    assert r['N_s'] == 4
    # B2 ∩ (U - B1) = {2, 3, 4}; with H: {2, 3}
    assert (r['num_b2_not_b1'], r['num_both']) == (3, 2)
    assert r['sIoU'] == pytest.approx(100 * 2 / 3)
    assert (r['top1_baseline'], r['top1_hssl'], r['top1_aux']) == (25.0, 50.0, 62.5)
    # swapping the roles of B2 and H changes sIoU's denominator: |H ∩ (U - B1)| = 4
    assert complementarity(LABELS, BASELINE, AUX, HSSL)['sIoU'] == pytest.approx(50.0)


def test_no_new_sample_gives_nan_and_bad_input_is_named():
    r = complementarity(LABELS, BASELINE, BASELINE, AUX)
    assert r['num_b2_not_b1'] == 0 and math.isnan(r['sIoU'])
    with pytest.raises(ValueError, match="'aux_pred': 7"):
        complementarity(LABELS, BASELINE, HSSL, AUX[:7])
    with pytest.raises(ValueError, match='integer class indices'):
        complementarity(LABELS, BASELINE.astype(float), HSSL, AUX)


def test_knn_top1_is_the_weighted_vote():
    train = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    test = torch.tensor([[1.0, 0.05], [0.1, 1.0]])
    # k = 1: the nearest neighbour's class; k = 3: class 0 has two close votes for sample 0
    assert knn_top1_predictions(train, labels, test, k=1, backend='torch').tolist() == [0, 1]
    assert knn_top1_predictions(train, labels, test, k=3, backend='torch').tolist() == [0, 1]


def test_auxiliary_head_features(tiny_dino):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dino(auxiliary=[dict(type='ConvNeXtHead', depth=1, name='c'),
                                              dict(type='PoolFormerHead', depth=1, name='p')]))
    model.eval()
    x = torch.rand(2, 3, 32, 32)
    feats = AuxiliaryHeadFeatures(model, 'p').extract_feat([x])
    net = model.teacher.module
    with torch.no_grad():
        expected = net.aux_heads['aux_p'](net.backbone(x).grid).cls
    assert torch.equal(feats, expected) and feats.shape == (2, 32)
    with pytest.raises(ValueError, match='several auxiliary heads'):
        AuxiliaryHeadFeatures(model)
    with pytest.raises(KeyError, match='no auxiliary head "x"'):
        AuxiliaryHeadFeatures(model, 'x')
    with pytest.raises(ValueError, match='no auxiliary head'):
        AuxiliaryHeadFeatures(MODELS.build(tiny_dino()))


def _run(*args):
    """Run the tool in this process: (exit code or error message, stdout)."""
    out = io.StringIO()
    old_argv, sys.argv = sys.argv, [TOOL, *args]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(TOOL, run_name='__main__')
        code = 0
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = old_argv
    return code, out.getvalue()


def test_tool_from_prediction_files(tmp_path):
    paths = []
    for name, pred in (('b', BASELINE), ('h', HSSL), ('a', AUX)):
        paths.append(str(tmp_path / f'{name}.npz'))
        np.savez(paths[-1], predictions=pred, labels=LABELS)
    out = tmp_path / 'r.json'
    code, stdout = _run('--predictions', *paths, '--out', str(out))
    assert code == 0
    assert 'N_s  = |H ∩ (U - B1)| = 4' in stdout
    assert '= 2 / 3 = 66.7%' in stdout
    assert json.loads(out.read_text())['N_s'] == 4

    np.savez(paths[2], predictions=AUX, labels=WRONG)
    code, _ = _run('--predictions', *paths)
    assert 'labels of' in code and paths[2] in code
    np.savez(paths[2], preds=AUX)
    code, _ = _run('--predictions', *paths)
    assert "no ['predictions', 'labels'] array" in code and paths[2] in code


def test_tool_from_checkpoints_on_digits(tmp_path, data_root):
    small = ("knn_train_dataset = dict(indices=100)\n"
             "knn_test_dataset = dict(indices=40)\n")
    (tmp_path / 'base.py').write_text(
        f"_base_ = {TINY!r}\nmodel = dict(network=dict(auxiliary=None))\n{small}")
    (tmp_path / 'hssl.py').write_text(f"_base_ = {TINY!r}\n{small}")
    from mmengine.config import Config
    ckpts = []
    for name in ('base', 'hssl'):
        cfg = Config.fromfile(str(tmp_path / f'{name}.py'))
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        ckpts.append(str(tmp_path / f'{name}.pth'))
        torch.save({'state_dict': model.state_dict()}, ckpts[-1])
    preds = tmp_path / 'preds'
    code, _ = _run('--baseline-config', str(tmp_path / 'base.py'), '--baseline-checkpoint', ckpts[0],
                '--config', str(tmp_path / 'hssl.py'), '--checkpoint', ckpts[1], '--k', '5',
                '--num-workers', '0', '--save-predictions', str(preds),
                '--out', str(tmp_path / 'r.json'))
    assert code == 0
    result = json.loads((tmp_path / 'r.json').read_text())
    assert result['num_samples'] == 40
    saved = {n: np.load(preds / f'{n}.npz') for n in ('baseline', 'hssl_base', 'hssl_aux')}
    again = complementarity(saved['baseline']['labels'],
                            *(saved[n]['predictions'] for n in ('baseline', 'hssl_base',
                                                                'hssl_aux')))
    assert again['N_s'] == result['N_s'] and again['top1_aux'] == result['top1_aux']
