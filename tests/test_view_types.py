"""Cutout views and per-view types (multi-task asymmetric Siamese SSL)."""
import numpy as np
import pytest

import hssl.datasets  # noqa: F401  (registers the transforms)
from hssl.datasets.transforms import RandomCutout, cutout_view_pipeline
from hssl.registry import TRANSFORMS


def _image(h=48, w=40, seed=0):
    # values 1..250: never equal to the fill colours used below
    return np.random.default_rng(seed).integers(1, 251, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize('size', [(224, 224), (32, 32), (40, 96)])
def test_block_area_is_uniform_over_20_to_40_percent(size):
    cut = RandomCutout()
    rng = np.random.default_rng(0)
    H, W = size
    fractions = []
    for _ in range(2000):
        top, left, h, w = cut.sample_box(H, W, rng)
        assert 0 <= top and top + h <= H and 0 <= left and left + w <= W
        fractions.append(h * w / (H * W))
    f = np.array(fractions)
    # rounding h and w to whole pixels moves the area by at most (h + w) / 2 + 1/4
    slack = (max(H, W) + 0.5) / (H * W)
    assert f.min() >= 0.2 - slack and f.max() <= 0.4 + slack
    assert abs(f.mean() - 0.3) < 0.01 + slack  # U(0.2, 0.4) has mean 0.3
    assert (f < 0.25).mean() > 0.15 and (f > 0.35).mean() > 0.15  # spread, not a constant


def test_block_is_filled_with_the_mean_in_the_image_channel_order():
    img = _image()
    out = RandomCutout(mean=(10, 20, 30))(dict(img=img.copy()))
    top, left, h, w = out['cutout_box']
    changed = (out['img'] != img).any(axis=2)
    assert changed.sum() == h * w  # exactly the block, which held no fill colour before
    assert changed[top:top + h, left:left + w].all()
    assert (out['img'][top:top + h, left:left + w] == [30, 20, 10]).all()  # RGB mean -> BGR
    rgb = RandomCutout(mean=(10.4, 20.6, 30), channel_order='rgb')(dict(img=img.copy()))
    t, l_ = rgb['cutout_box'][:2]
    assert (rgb['img'][t, l_] == [10, 21, 30]).all()
    assert (img == _image()).all()  # the input array is not changed in place


def test_errors_are_named():
    with pytest.raises(ValueError, match='area_range'):
        RandomCutout(area_range=(0.4, 0.2))
    with pytest.raises(ValueError, match='3 channels but mean has 1'):
        RandomCutout(mean=(128,))(dict(img=_image()))
    with pytest.raises(ValueError, match='one HW or HWC array'):
        RandomCutout()(dict(img=[_image(), _image()]))
    with pytest.raises(ValueError, match="view_type must be one of"):
        TRANSFORMS.build(dict(type='ViewType', view_type='masked'))
    with pytest.raises(ValueError, match='cutout_number must be an integer >= 0'):
        TRANSFORMS.build(dict(type='MultiTaskMultiCrop', cutout_number=-1))


def test_cutout_comes_before_colour_jitter():
    types = [t['type'] for t in cutout_view_pipeline(32, (0.4, 1.0), 1.0)]
    assert types.index('RandomCutout') < types.index('RandomApply')  # the jitter's wrapper
    assert types[:3] == ['RandomResizedCrop', 'RandomFlip', 'RandomCutout']


def test_multi_task_views_carry_their_types_into_data_samples():
    from mmengine.dataset import default_collate
    t = TRANSFORMS.build(dict(type='MultiTaskMultiCrop', global_crops_size=32,
                              local_crops_size=16, local_crops_number=2, cutout_number=3))
    pack = TRANSFORMS.build(dict(type='PackInputs', algorithm_keys=['view_type']))
    out = t(dict(img=_image(), img_shape=(48, 40), ori_shape=(48, 40)))
    assert out['view_type'] == ['global'] * 2 + ['cutout'] * 3 + ['local'] * 2
    assert [v.shape[:2] for v in out['img']] == [(32, 32)] * 5 + [(16, 16)] * 2
    assert [b is None for b in out['cutout_box']] == [True, True, False, False, False, True, True]
    batch = default_collate([pack(dict(out)), pack(dict(out))])
    assert [s.view_type for s in batch['data_samples']] == [out['view_type']] * 2
    assert len(batch['inputs']) == 7 and batch['inputs'][2].shape == (2, 3, 32, 32)
