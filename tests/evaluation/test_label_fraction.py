"""Semi-supervised evaluation (Tab. X): a seeded, class-balanced label subset as
the k-NN memory and as the linear probe's training set."""
import importlib.util
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config

from hssl.evaluation import knn_accuracy, save_features
from hssl.evaluation.label_fraction import balanced_subset
from hssl.registry import DATASETS
from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('knn_eval_lf', osp.join(REPO, 'tools', 'knn_eval.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_class_keeps_its_fraction_and_the_seed_names_the_subset():
    labels = np.repeat([0, 1, 2], [200, 100, 7])
    keep = balanced_subset(labels, 0.1, seed=0)
    assert Counter(labels[keep].tolist()) == {0: 20, 1: 10, 2: 1}  # round(0.7) = 1, at least 1
    assert np.array_equal(keep, np.sort(keep)) and len(set(keep.tolist())) == len(keep)
    assert np.array_equal(keep, balanced_subset(labels, 0.1, seed=0))
    assert not np.array_equal(keep, balanced_subset(labels, 0.1, seed=1))
    assert Counter(labels[balanced_subset(labels, 0.01)].tolist()) == {0: 2, 1: 1, 2: 1}
    assert len(balanced_subset(labels, 1.0)) == len(labels)
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match='label fraction must be in'):
            balanced_subset(labels, bad)
    with pytest.raises(ValueError, match='unlabelled'):
        balanced_subset([0, -1], 0.5)


def test_image_folder_keeps_the_subset(data_root):
    full = DATASETS.build(dict(type='EmbeddedDigits', split='train'))
    part = DATASETS.build(dict(type='EmbeddedDigits', split='train', label_fraction=0.1, label_seed=3))
    labels = np.array([full.get_data_info(i)['gt_label'] for i in range(len(full))])
    keep = balanced_subset(labels, 0.1, seed=3)
    assert [part.get_data_info(i)['img_path'] for i in range(len(part))] == \
        [full.get_data_info(int(i))['img_path'] for i in keep]
    assert Counter(int(part.get_data_info(i)['gt_label']) for i in range(len(part))) == \
        {c: round(0.1 * n) for c, n in Counter(labels.tolist()).items()}


def test_knn_eval_label_fraction_on_features(tmp_path, capsys):
    rng = np.random.default_rng(0)
    train_y = np.repeat(np.arange(5), 40)
    train_x = rng.standard_normal((200, 8)).astype(np.float32) + train_y[:, None]
    test_y = np.arange(5).repeat(4)
    test_x = rng.standard_normal((20, 8)).astype(np.float32) + test_y[:, None]
    feats = str(tmp_path / 'f.npz')
    save_features(feats, train_x, train_y, test_x, test_y)
    out = str(tmp_path / 'res' / 'knn.json')
    tool = load_tool()
    result = tool.main(['--features', feats, '--k', '3', '--backend', 'torch', '--out', out,
                        '--label-fraction', '0.1', '--label-seed', '2'])
    keep = balanced_subset(train_y, 0.1, seed=2)
    assert result == knn_accuracy(train_x[keep], train_y[keep], test_x, test_y, ks=3, backend='torch')
    lines = open(str(tmp_path / 'res' / 'knn.label_subset.txt')).read().split('\n')[:-1]
    assert lines == [f'{i} {train_y[i]}' for i in keep]  # features mode: sample indices
    assert 'memory of 20 of 200 images, 5 classes' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(['--features', feats, '--label-fraction', '0.1'])  # no --out


def test_knn_eval_label_fraction_lists_the_files(tmp_path, data_root):
    tool = load_tool()
    out = str(tmp_path / 'knn.json')
    sub = f'knn_test_dataset.indices=[{",".join(map(str, range(0, 360, 36)))}]'
    tool.main([TINY, '--random-init', '--k', '1', '--backend', 'torch', '--num-workers', '0',
               '--no-cache', '--out', out, '--label-fraction', '0.01', '--cfg-options', sub])
    lines = open(str(tmp_path / 'knn.label_subset.txt')).read().split('\n')[:-1]
    assert len(lines) == 10  # 1% of ~144 images per class rounds to 1: one per digit
    for line in lines:
        path, label = line.rsplit(' ', 1)
        assert osp.isfile(path) and osp.basename(osp.dirname(path)) == label


@pytest.mark.parametrize('pct', [1, 10])
def test_linear_semi_supervised_configs_differ_only_by_the_subset(pct):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', f'linear_vitb16_100e_in1k-{pct}pct.py'))
    base = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', 'linear_vitb16_100e_in1k.py'))
    ds = cfg.train_dataloader.dataset
    assert ds.pop('label_fraction') == pct / 100 and ds.pop('label_seed') == 0
    assert cfg.train_dataloader == base.train_dataloader and cfg.model == base.model
    assert cfg.val_dataloader == base.val_dataloader and cfg.optim_wrapper == base.optim_wrapper
