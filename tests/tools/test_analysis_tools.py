"""tools/analysis: print_config, get_flops, browse_dataset, analyze_logs."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from tests import DATA, REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import analyze_logs  # noqa: E402
import browse_dataset  # noqa: E402
import get_flops  # noqa: E402
import print_config  # noqa: E402

TINY = osp.join(DATA, 'tiny_digits_config.py')
TINY_IBOT = osp.join(DATA, 'tiny_ibot_digits_config.py')


def test_print_config_applies_cfg_options_and_writes_a_loadable_file(tmp_path, capsys):
    out = tmp_path / 'resolved.py'
    print_config.main([TINY, '--cfg-options', 'train_cfg.max_epochs=7',
                       'model.network.auxiliary.depth=1', '--out', str(out)])
    text = capsys.readouterr().out
    assert text.startswith(f'# {TINY} with --cfg-options train_cfg.max_epochs=7')
    assert "auxiliary=dict(depth=1" in text  # merged into the base's ConvNeXtHead
    cfg = Config.fromfile(str(out))
    assert cfg.train_cfg.max_epochs == 7 and cfg.model.network.auxiliary.type == 'ConvNeXtHead'


def test_print_config_missing_file_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match='no config file'):
        print_config.main([str(tmp_path / 'nope.py')])


def vit_forward_flops(tokens, dim, ffn, layers, patches, patch_pixels):
    """2 FLOPs per multiply-add: patch embedding, then per layer qkv, q k^T, attn v,
    projection and the two FFN layers (no cls-token FLOPs in the embedding)."""
    embed = 2 * patches * patch_pixels * dim
    layer = 2 * tokens * dim * 3 * dim + 2 * 2 * tokens * tokens * dim \
        + 2 * tokens * dim * dim + 2 * 2 * tokens * dim * ffn
    return embed + layers * layer


def test_get_flops_inference_matches_the_vit_formula_and_step_adds_the_head():
    cfg = Config.fromfile(TINY)
    r = get_flops.count(cfg)
    # tiny ViT: width 32, 2 layers, FFN 64, patch 8 on 32 px: 16 patches + cls
    expected = vit_forward_flops(tokens=17, dim=32, ffn=64, layers=2, patches=16,
                                 patch_pixels=3 * 8 * 8)
    assert r['inference_gflops'] * 1e9 == expected
    assert r['views'] == '2 x 32 px + 2 x 16 px' and r['algorithm'] == 'DINO'
    assert r['trained'] == pytest.approx(r['teacher'])  # DINO's teacher: a copy of the student
    assert r['trained'] == pytest.approx(r['backbone'] + r['aux_heads'] + r['projectors'])
    base = Config.fromfile(TINY)
    base.model.network.auxiliary = None
    b = get_flops.count(base)
    assert b['aux_heads'] == 0 and b['inference_gflops'] == r['inference_gflops']
    assert r['step_gflops'] > b['step_gflops']  # the head's forward and backward
    # the step: at least 3 backbone passes (forward, backward ~2x) per student view
    assert b['step_gflops'] > 3 * (2 * expected) / 1e9


def test_get_flops_ibot_counts_masked_views():
    r = get_flops.count(Config.fromfile(TINY_IBOT))
    assert r['algorithm'] == 'IBOT' and r['views'].endswith('patch masks on 2')


def _results_with_cutout():
    g = np.zeros((8, 8, 3), np.uint8)
    return dict(img=[g, g.copy(), g.copy(), np.zeros((4, 4, 3), np.uint8)],
                cutout_box=[None, None, (2, 2, 3, 3), None],
                patch_mask=[np.eye(2, dtype=bool), None, None, None])


def test_browse_view_kinds_masks_and_cutout_boxes_are_drawn():
    results = _results_with_cutout()
    assert browse_dataset.view_kinds(results) == ['global', 'global', 'cutout', 'local']
    img = np.full((8, 8, 3), 100, np.uint8)
    drawn = np.asarray(browse_dataset.draw_view(img, 2, mask=np.eye(2, dtype=bool)))
    assert drawn.shape == (16, 16, 3)
    masked, kept = drawn[1, 1], drawn[1, 14]  # patch (0, 0) masked, (0, 1) not
    assert masked[0] > masked[1] and tuple(kept) == (100, 100, 100)
    boxed = np.asarray(browse_dataset.draw_view(img, 2, box=(2, 2, 3, 3)))
    assert tuple(boxed[4, 6]) == (255, 220, 0) and tuple(boxed[0, 0]) == (100, 100, 100)
    grid = browse_dataset.sample_grid(img, results, 2, 'x')
    assert grid.height > 3 * 16  # original, global, cutout and local rows


def test_browse_dataset_writes_one_png_per_sample(tmp_path, data_root):
    paths = browse_dataset.main([TINY_IBOT, '--output-dir', str(tmp_path), '--indices', '0', '3',
                                 '--scale', '2'])
    assert [osp.basename(p) for p in paths] == ['sample_00000.png', 'sample_00003.png']
    assert Image.open(paths[0]).format == 'PNG'
    with pytest.raises(SystemExit, match='sample 99 is out of range'):
        browse_dataset.main([TINY_IBOT, '--output-dir', str(tmp_path), '--indices', '99',
                             '--cfg-options', 'train_dataloader.dataset.indices=8'])


def _write_run(work_dir, stamp, rows):
    path = work_dir / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


def test_analyze_logs_merges_resumed_runs_and_overlays_runs(tmp_path, capsys):
    a, b = tmp_path / 'base', tmp_path / 'hssl'
    _write_run(a, '20260101_000000', [dict(loss=3.0, lr=0.1, step=1),
                                      dict(loss=2.5, lr=0.1, step=2)])
    _write_run(a, '20260101_010000', [dict(loss=2.0, lr=0.2, step=2), dict(loss=1.0, step=3),
                                      {'knn/top1_k20': 55.0, 'step': 3}])
    _write_run(b, '20260101_000000', [dict(loss=4.0, loss_aux=1.5, teacher_momentum=0.99,
                                           grad_norm=3.0, step=1)])
    runs = analyze_logs.main([str(a), str(b), '--out', str(tmp_path / 'c.png')])
    assert runs['base']['loss'] == [(1, 3.0), (2, 2.0), (3, 1.0)]  # the later run wins at 2
    out = capsys.readouterr().out
    assert 'base loss: 3 points, first 3, last 1' in out
    assert 'hssl loss_aux: 1 points' in out and 'base knn/top1_k20' in out
    assert 'grad_norm' not in out  # not a default key
    assert Image.open(tmp_path / 'c.png').format == 'PNG'
    with pytest.raises(SystemExit, match=r"no \['acc'\] in the logs; they have: .*loss"):
        analyze_logs.main([str(a), '--keys', 'acc', '--out', str(tmp_path / 'd.png')])
