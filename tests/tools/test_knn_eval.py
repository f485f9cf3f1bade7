"""tools/knn_eval.py: features mode, model mode with its cache, bad input, sharding."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from hssl.evaluation import FEATURE_KEYS, dino_eval_pipeline, knn_accuracy, load_features, save_features
from hssl.evaluation import feature_cache
from hssl.evaluation.sharding import interleave
from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')


def subset(name, stop, step):
    """--cfg-options entry: every ``step``-th image (all classes; folders are class-sorted)."""
    return f'{name}.indices=[{",".join(map(str, range(0, stop, step)))}]'


SMALL_DATA = [subset('knn_train_dataset', 1437, 24), subset('knn_test_dataset', 360, 18)]


def load_tool():
    spec = importlib.util.spec_from_file_location('knn_eval_tool', osp.join(REPO, 'tools', 'knn_eval.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_tool()


def clustered(rng, n, centres, noise=0.5):
    labels = rng.integers(0, len(centres), n)
    return (centres[labels] + noise * rng.standard_normal((n, centres.shape[1]))).astype(np.float32), labels


@pytest.fixture
def feats_file(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((6, 8)) * 2
    train_x, train_y = clustered(rng, 80, centres)
    test_x, test_y = clustered(rng, 30, centres)
    path = str(tmp_path / 'feats.npz')
    save_features(path, train_x, train_y, test_x, test_y)
    return path, (train_x, train_y, test_x, test_y)


def test_features_mode_table_and_json(tool, feats_file, tmp_path, capsys):
    path, arrays = feats_file
    out = tmp_path / 'res.json'
    result = tool.main(['--features', path, '--k', '1', '5', '20', '--backend', 'torch',
                        '--out', str(out)])
    expected = knn_accuracy(*arrays, ks=(1, 5, 20), backend='torch')
    assert result == expected
    written = json.loads(out.read_text())
    assert written == {m: {str(k): v for k, v in r.items()} for m, r in expected.items()}
    assert list(written['top1']) == ['1', '5', '20']
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('k-NN on 30 images, memory of 80, T=0.07')
    assert lines[2].split() == ['1', f'{expected["top1"][1]:.2f}', f'{expected["top5"][1]:.2f}']


def test_default_ks_and_fewer_than_five_classes(tool, tmp_path, capsys):
    rng = np.random.default_rng(1)
    path = str(tmp_path / 'f.npz')
    save_features(path, rng.standard_normal((250, 4)), np.arange(250) % 3,
                  rng.standard_normal((7, 4)), np.arange(7) % 3)
    out = tmp_path / 'r.json'
    tool.main(['--features', path, '--out', str(out)])
    written = json.loads(out.read_text())
    assert list(written['top1']) == ['10', '20', '100', '200']
    assert all(v is None for v in written['top5'].values())  # top-5 of 3 classes: n/a
    assert 'n/a' in capsys.readouterr().out


@pytest.mark.parametrize('change,words', [
    (dict(train_labels=np.arange(79) % 6), ['79 labels', '80 samples', 'mismatch']),
    (dict(test_labels=np.arange(29) % 6), ['29 labels', '30 samples']),
    (dict(test_features=np.zeros((30, 5), np.float32)), ['same width', '(80, 8)', '(30, 5)']),
    (dict(k=['100']), ['k=100', 'larger than the training set', '80 samples']),
    (dict(drop='test_labels'), ["missing array(s) ['test_labels']", 'feats.npz']),
])
def test_bad_features_file(tool, feats_file, change, words, capsys):
    path, (train_x, train_y, test_x, test_y) = feats_file
    arrays = dict(train_features=train_x, train_labels=train_y, test_features=test_x,
                  test_labels=test_y)
    ks = change.pop('k', ['5'])
    arrays.pop(change.pop('drop', None), None)
    arrays.update(change)
    np.savez(path, **arrays)
    with pytest.raises(SystemExit) as info:
        tool.main(['--features', path, '--k', *ks, '--backend', 'torch'])
    message = str(info.value)
    assert message.startswith('knn_eval.py: error: ') and path in message
    for word in words:
        assert word in message, (word, message)


def test_missing_features_file(tool, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        tool.main(['--features', str(tmp_path / 'nope.npz')])
    assert info.value.code == 2
    err = capsys.readouterr().err  # (the program name is pytest's here)
    assert err.count('\n') == 1
    assert f': error: argument --features: {tmp_path / "nope.npz"} does not exist' in err


def test_model_mode_caches_features(tool, tmp_path, data_root, monkeypatch, capsys):
    argv = [TINY, '--random-init', '--k', '5', '10', '--backend', 'torch', '--num-workers', '0',
            '--cache-dir', str(tmp_path / 'cache'), '--cfg-options', *SMALL_DATA]
    first = tool.main(argv + ['--out', str(tmp_path / 'a.json')])
    cached = os.listdir(tmp_path / 'cache')
    assert len(cached) == 1 and 'features cached at' in capsys.readouterr().out
    feats = load_features(str(tmp_path / 'cache' / cached[0]))
    assert feats['train_features'].shape == (60, 32) and feats['test_features'].shape == (20, 32)
    assert np.array_equal(feats['test_labels'], np.sort(feats['test_labels']))  # folder order
    assert set(feats['test_labels']) == set(range(10))

    def no_extraction(*args, **kwargs):
        raise AssertionError('features were extracted again instead of read from the cache')

    monkeypatch.setattr(feature_cache, 'extract_features', no_extraction)
    again = tool.main(argv[:3] + ['20'] + argv[5:])  # another k: the cache answers
    assert 'features from the cache' in capsys.readouterr().out
    assert again['top1'][20] == knn_accuracy(*feats.values(), ks=20, backend='torch')['top1'][20]
    assert first == knn_accuracy(*feats.values(), ks=(5, 10), backend='torch')
    # other data: another key, so features are extracted (and refused here)
    with pytest.raises(AssertionError, match='extracted again'):
        tool.main(argv[:-1] + [subset('knn_test_dataset', 360, 17)])
    # --student is another key too
    with pytest.raises(AssertionError, match='extracted again'):
        tool.main(argv + ['--student'])


def test_cli_argument_errors(tool):
    for argv in (['--features', 'f.npz', TINY], [TINY], [TINY, 'ckpt.pth', '--random-init'],
                 [TINY, '--random-init', '--train-dir', 'a'], [TINY, 'c', '--teacher', '--student']):
        with pytest.raises(SystemExit):
            tool.parse_args(argv)


def test_dino_eval_pipeline_resizes_short_edge_and_centre_crops(tmp_path):
    from hssl.datasets import ImageFolder
    img = np.zeros((64, 40, 3), np.uint8)  # H=64, W=40
    img[:, :, 0] = np.arange(64)[:, None]  # row index in red
    (tmp_path / 'c').mkdir()
    Image.fromarray(img).save(tmp_path / 'c' / 'a.png')
    pipeline = dino_eval_pipeline(32)
    assert pipeline[1]['scale'] == 37  # 32 * 256 / 224
    sample = ImageFolder(str(tmp_path), pipeline=pipeline)[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    # short edge 40 -> 37, long 64 -> 59; the crop keeps rows 13..45 of 59, i.e.
    # original rows ~14..49: the red ramp's centre stays at the centre.
    red = sample['inputs'][2].float()  # BGR
    assert abs(red.mean().item() - 31.5) < 1.5


def test_interleave_restores_dataset_order():
    feats = torch.arange(7.0).unsqueeze(1).repeat(1, 2)
    labels = np.arange(7) * 10
    parts = [(feats[r::3], labels[r::3]) for r in range(3)]
    got_f, got_y = interleave(parts)
    assert torch.equal(got_f, feats) and np.array_equal(got_y, labels)


@pytest.mark.slow
def test_two_process_extraction_equals_one(tmp_path, data_root):
    base = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
            '--master_port', str(29600 + os.getpid() % 1000)]
    argv = ['tools/knn_eval.py', TINY, '--random-init', '--k', '5', '--backend', 'torch',
            '--num-workers', '0', '--cache-dir', str(tmp_path / 'cache2'),
            '--out', str(tmp_path / 'two.json'), '--cfg-options', SMALL_DATA[0],
            subset('knn_test_dataset', 360, 17)]  # 22 images: uneven shards
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(base + argv, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    argv[argv.index('--cache-dir') + 1] = str(tmp_path / 'cache1')
    argv[argv.index('--out') + 1] = str(tmp_path / 'one.json')
    load_tool().main(argv[1:])
    two = load_features(os.path.join(tmp_path / 'cache2', os.listdir(tmp_path / 'cache2')[0]))
    one = load_features(os.path.join(tmp_path / 'cache1', os.listdir(tmp_path / 'cache1')[0]))
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-6)
    assert json.load(open(tmp_path / 'two.json')) == json.load(open(tmp_path / 'one.json'))


def test_an_unreadable_evaluation_image_is_an_error_naming_it(tool, tmp_path):
    """Training skips a bad image; k-NN must not: its replacement would carry a wrong label."""
    for cls in ('a', 'b'):
        os.makedirs(tmp_path / 'train' / cls)
        os.makedirs(tmp_path / 'val' / cls)
        for i in range(3):
            Image.new('RGB', (32, 32), (40 * i, 0, 0)).save(tmp_path / 'train' / cls / f'{i}.png')
            Image.new('RGB', (32, 32), (0, 40 * i, 0)).save(tmp_path / 'val' / cls / f'{i}.png')
    (tmp_path / 'val' / 'b' / 'broken.png').write_bytes(b'not an image')
    argv = [TINY, '--random-init', '--k', '1', '--backend', 'torch', '--num-workers', '0',
            '--no-cache', '--train-dir', str(tmp_path / 'train'), '--val-dir', str(tmp_path / 'val')]
    with pytest.raises(SystemExit, match='knn_eval.py: error: .*broken.png'):
        tool.main(argv)


def test_random_weights_are_cached_under_their_values():
    from hssl.evaluation.feature_cache import state_dict_sha256
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert state_dict_sha256(a) == state_dict_sha256(b)
    with torch.no_grad():
        b.bias[0] += 1e-6  # other random weights (other code or seed): another cache entry
    assert state_dict_sha256(a) != state_dict_sha256(b)


class _Points(torch.utils.data.Dataset):
    """Sample i: input (i, 1), label i % 3, file 'i.png'."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def get_data_info(self, i):
        return dict(img_path=f'{i}.png', gt_label=i % 3)

    def __getitem__(self, i):
        from mmpretrain.structures import DataSample
        return dict(inputs=torch.tensor([float(i), 1.0]), data_samples=DataSample().set_gt_label(i % 3))


class _Doubler(torch.nn.Module):
    """Features: twice the inputs."""

    def data_preprocessor(self, data, training):
        return data

    def extract_feat(self, inputs, use_teacher=True):
        return 2 * inputs


def test_cache_key_of_earlier_versions_is_kept():
    """The key names the cache files: files written by earlier versions are still found
    (the value is what the version before the feature API's move computed)."""
    from hssl.evaluation import feature_cache_key
    key = feature_cache_key('ab' * 32, [_Points(2), _Points(1)],
                            [[dict(type='ImageFolder')], dict(type='DINO'), 'teacher'])
    assert key == '12efed0ce8d406163198721008267794'


def test_train_test_features_reads_the_cache_and_redoes_a_bad_one(tmp_path):
    from hssl.evaluation import train_test_features
    datasets = [_Points(7), _Points(4)]
    lines = []

    def run(model):
        return train_test_features(model, datasets, weights='w', key_extra=['x'],
                                   cache_dir=str(tmp_path), num_workers=0, log=lines.append)

    def unused():
        raise AssertionError('the model was built although the cache holds the features')

    first = run(_Doubler)
    assert first['train_files'] == [f'{i}.png' for i in range(7)]
    np.testing.assert_array_equal(first['train_features'], [[2 * i, 2] for i in range(7)])
    np.testing.assert_array_equal(first['test_labels'], np.arange(4) % 3)
    [path] = [str(p) for p in tmp_path.iterdir()]
    assert lines == [f'features cached at {path} (evaluate again with --features {path})']
    again = run(unused)
    assert lines[-1] == f'features from the cache: {path}'
    for key in FEATURE_KEYS:
        np.testing.assert_array_equal(again[key], first[key])

    with open(path, 'r+b') as f:  # truncated: unreadable
        f.truncate(100)
    redone = run(_Doubler)
    assert lines[-2].startswith(f'feature cache {path} is unreadable (')
    assert lines[-2].endswith('); extracting the features again') and '\n' not in lines[-2]
    assert lines[-1].startswith('features cached at')
    np.testing.assert_array_equal(redone['train_features'], first['train_features'])

    save_features(path, first['train_features'], first['train_labels'][::-1].copy(),
                  first['test_features'], first['test_labels'])  # not these images' labels
    run(_Doubler)
    assert lines[-2] == (f'feature cache {path} does not match the data (the train labels differ '
                         'from those of the images); extracting the features again')
    save_features(path, first['train_features'][:5], first['train_labels'][:5],
                  first['test_features'], first['test_labels'])
    run(_Doubler)
    assert 'does not match the data (5 train labels and 5 features for 7 images)' in lines[-2]
    np.testing.assert_array_equal(load_features(path)['train_labels'], first['train_labels'])

