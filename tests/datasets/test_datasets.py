"""Tests of the data layer: embedded digits, ImageFolder, LoadImage."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

import hssl.datasets  # noqa: F401  (registers datasets and transforms)
from hssl.datasets import EmbeddedDigits, ImageFolder, ImageLoadError, LoadImage
from hssl.datasets import embedded
from hssl.datasets.embedded import COMPLETE_MARKER, prepare_digits
from hssl.registry import DATASETS, TRANSFORMS


# ``data_root`` (tests/conftest.py) points HSSL_DATA_ROOT at a per-session
# temporary folder, so the digits are written once and never to the home cache.


def _png_files(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith('.png'))


def _save_image(path, size=(8, 6)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    arr = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)


# ----------------------------------------------------------------- digits

def test_prepare_digits_layout_and_stratified_split(data_root):
    path = prepare_digits()
    assert path == str(data_root / 'digits')
    counts = {}
    for split in ('train', 'test'):
        classes = sorted(os.listdir(osp.join(path, split)))
        assert classes == [str(c) for c in range(10)]
        counts[split] = {c: len(_png_files(osp.join(path, split, c))) for c in classes}
    n_train, n_test = sum(counts['train'].values()), sum(counts['test'].values())
    assert n_train + n_test == 1797
    assert (n_train, n_test) == (1437, 360)
    for c in counts['train']:
        total = counts['train'][c] + counts['test'][c]
        assert abs(counts['test'][c] - 0.2 * total) <= 1, (c, counts['test'][c], total)


def test_digits_images_are_32x32_rgb(data_root):
    folder = osp.join(prepare_digits(), 'train', '7')
    for name in _png_files(folder)[:20]:
        with Image.open(osp.join(folder, name)) as img:
            assert img.size == (32, 32) and img.mode == 'RGB'
            arr = np.asarray(img)
        assert arr.max() > 128  # 0..16 was scaled up to 0..255


def test_prepare_digits_second_call_does_not_rewrite(data_root):
    path = prepare_digits()
    sample = osp.join(path, 'test', '3', _png_files(osp.join(path, 'test', '3'))[0])
    before = (os.stat(sample).st_mtime_ns, os.stat(osp.join(path, COMPLETE_MARKER)).st_mtime_ns)
    assert prepare_digits(str(data_root)) == path
    after = (os.stat(sample).st_mtime_ns, os.stat(osp.join(path, COMPLETE_MARKER)).st_mtime_ns)
    assert before == after
    assert not [f for f in os.listdir(data_root) if f.startswith('.digits')]  # no leftovers


def _fake_writer(out_dir):
    os.makedirs(osp.join(out_dir, 'train', '0'))
    open(osp.join(out_dir, 'train', '0', '0000.png'), 'wb').close()
    open(osp.join(out_dir, COMPLETE_MARKER), 'w').close()


def test_prepare_digits_replaces_incomplete_leftover(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, '_write_digits', _fake_writer)
    stale = tmp_path / 'digits'
    (stale / 'junk').mkdir(parents=True)  # e.g. a half-copied folder, no marker
    path = prepare_digits(str(tmp_path))
    assert osp.isfile(osp.join(path, COMPLETE_MARKER))
    assert not osp.exists(osp.join(path, 'junk'))
    assert os.listdir(tmp_path) == ['digits']


def test_prepare_digits_lost_race_keeps_winner(tmp_path, monkeypatch):
    """Another process completes the folder while we write: keep theirs."""
    def racing_writer(out_dir):
        _fake_writer(str(tmp_path / 'digits'))  # the other process wins
        (tmp_path / 'digits' / 'winner').touch()
        _fake_writer(out_dir)

    monkeypatch.setattr(embedded, '_write_digits', racing_writer)
    path = prepare_digits(str(tmp_path))
    assert osp.exists(osp.join(path, 'winner'))
    assert os.listdir(tmp_path) == ['digits']


def test_embedded_digits_labels_match_folders(data_root):
    ds = DATASETS.build(dict(type='EmbeddedDigits', split='train'))
    assert isinstance(ds, ImageFolder)
    assert len(ds) == 1437
    assert ds.metainfo['classes'] == tuple(str(c) for c in range(10))
    labels = ds.get_gt_labels()
    assert len(labels) == 1437 and set(labels.tolist()) == set(range(10))
    for i in range(0, len(ds), 97):
        info = ds.get_data_info(i)
        assert info['gt_label'] == int(osp.basename(osp.dirname(info['img_path'])))
        assert labels[i] == info['gt_label']
    assert len(EmbeddedDigits(split='test')) == 360


def test_embedded_digits_bad_split(data_root):
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\), got 'val'"):
        EmbeddedDigits(split='val')


# ------------------------------------------------------------ ImageFolder

def test_image_folder_labeled_and_flat(tmp_path):
    _save_image(str(tmp_path / 'cls' / 'cat' / 'a.png'))
    _save_image(str(tmp_path / 'cls' / 'cat' / 'deep' / 'b.JPG'))
    _save_image(str(tmp_path / 'cls' / 'dog' / 'c.jpeg'))
    (tmp_path / 'cls' / 'dog' / 'notes.txt').write_text('not an image')
    ds = ImageFolder(str(tmp_path / 'cls'))
    assert ds.metainfo['classes'] == ('cat', 'dog')
    assert ds.get_gt_labels().tolist() == [0, 0, 1]
    flat = DATASETS.build(dict(type='ImageFolder', data_root=str(tmp_path / 'cls'),
                               with_label=False))
    assert len(flat) == 3 and 'gt_label' not in flat.get_data_info(0)


def test_image_folder_missing_names_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        ImageFolder('no_such_dir')
    assert str(tmp_path / 'no_such_dir') in str(err.value)


@pytest.mark.parametrize('with_label', [True, False])
def test_image_folder_without_images_names_path_and_extensions(tmp_path, with_label):
    (tmp_path / 'imgs' / 'cat').mkdir(parents=True)
    (tmp_path / 'imgs' / 'cat' / 'readme.txt').write_text('x')
    with pytest.raises(ValueError) as err:
        ImageFolder(str(tmp_path / 'imgs'), with_label=with_label)
    msg = str(err.value)
    assert str(tmp_path / 'imgs') in msg and '.png' in msg and '.jpg' in msg


def test_image_folder_flat_folder_with_labels_explains(tmp_path):
    _save_image(str(tmp_path / 'flat' / 'a.png'))
    with pytest.raises(ValueError, match='with_label=False'):
        ImageFolder(str(tmp_path / 'flat'))


# -------------------------------------------------------------- LoadImage

@pytest.fixture
def bad_images(tmp_path):
    garbage = tmp_path / 'garbage.jpg'
    garbage.write_bytes(np.random.default_rng(0).bytes(600))
    _save_image(str(tmp_path / 'good.png'), size=(64, 64))
    data = (tmp_path / 'good.png').read_bytes()
    truncated = tmp_path / 'truncated.png'
    truncated.write_bytes(data[:len(data) // 2])
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    return dict(garbage=str(garbage), truncated=str(truncated), empty=str(empty),
                good=str(tmp_path / 'good.png'))


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('kind', ['garbage', 'truncated', 'empty'])
def test_load_image_names_undecodable_file(bad_images, kind, backend):
    load = LoadImage(imdecode_backend=backend)
    with pytest.raises(ImageLoadError) as err:
        load(dict(img_path=bad_images[kind]))
    assert isinstance(err.value, OSError)
    assert bad_images[kind] in str(err.value)


def test_load_image_missing_file_and_good_file(bad_images, tmp_path):
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        LoadImage()(dict(img_path=missing))
    out = TRANSFORMS.build(dict(type='LoadImage'))(dict(img_path=bad_images['good']))
    assert out['img'].shape == (64, 64, 3) and out['img'].dtype == np.uint8
    assert LoadImage(ignore_empty=True)(dict(img_path=bad_images['garbage'])) is None


def test_dataset_pipeline_error_names_file(tmp_path):
    _save_image(str(tmp_path / 'imgs' / 'a' / 'ok.png'))
    (tmp_path / 'imgs' / 'a' / 'zbroken.png').write_bytes(b'not a png')
    # max_bad_samples=0: no skipping (the default skips it, tests/engine/test_reliability.py)
    ds = ImageFolder(str(tmp_path / 'imgs'), pipeline=[dict(type='LoadImage')], max_bad_samples=0)
    assert ds[0]['img'].shape == (6, 8, 3)
    with pytest.raises(OSError, match='zbroken.png'):
        ds[1]
