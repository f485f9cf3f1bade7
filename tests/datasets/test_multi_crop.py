"""Tests of MultiCrop, DINOMultiCrop, the hue-safe ColorJitter and the full
dataset -> collate -> SelfSupDataPreprocessor chain."""
import re
from collections import OrderedDict

import mmcv
import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope

import hssl.datasets  # noqa: F401  (registers datasets and transforms)
from hssl.datasets import DINOMultiCrop, MultiCrop
from hssl.datasets.embedded import prepare_digits
from hssl.datasets.transforms.color import adjust_hue_bgr
from hssl.registry import DATASETS, MODELS, TRANSFORMS


@TRANSFORMS.register_module(force=True)
class _AddViewMask(BaseTransform):
    """Test helper: adds a per-view 'mask' shaped like the view."""

    def transform(self, results):
        results['mask'] = np.ones(results['img'].shape[:2], dtype=bool)
        return results


@TRANSFORMS.register_module(force=True)
class _RejectSample(BaseTransform):
    """Test helper: a transform that rejects the sample."""

    def transform(self, results):
        return None


def _results(h=40, w=50):
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), gt_label=3)


def _shapes(results):
    return [v.shape for v in results['img']]


# -------------------------------------------------------------- MultiCrop

def test_multi_crop_views_in_group_order_and_per_view_keys():
    t = TRANSFORMS.build(dict(type='MultiCrop', groups=[
        dict(num=2, pipeline=[dict(type='Resize', scale=(20, 10)), dict(type='_AddViewMask')]),
        dict(num=3, pipeline=[dict(type='RandomResizedCrop', scale=8)]),
    ]))
    assert t.num_views == 5
    out = t(_results())
    assert _shapes(out) == [(10, 20, 3)] * 2 + [(8, 8, 3)] * 3
    assert [m is None for m in out['mask']] == [False, False, True, True, True]
    assert out['mask'][0].shape == (10, 20)
    # Resize adds 'scale', 'scale_factor', 'keep_ratio': collected per view too.
    assert out['scale_factor'][2] is None and out['scale_factor'][0] is not None
    # Keys of the input are kept as they were (not turned into lists).
    assert out['gt_label'] == 3 and out['img_shape'] == (40, 50)


def test_multi_crop_views_are_independent_copies():
    t = MultiCrop(groups=[dict(num=3, pipeline=[dict(type='RandomResizedCrop', scale=16)])])
    out = t(_results())
    out['img'][0][...] = 0
    assert out['img'][1].any() and out['img'][2].any()


def test_multi_crop_propagates_rejection():
    t = MultiCrop(groups=[dict(num=1, pipeline=[]),
                          dict(num=1, pipeline=[dict(type='_RejectSample')])])
    assert t(_results()) is None


@pytest.mark.parametrize('groups, match', [
    ([], 'non-empty list'),
    ([dict(num=2)], r'groups\[0\] must be dict'),
    ([dict(num=-1, pipeline=[])], r'groups\[0\]\.num must be an integer >= 0, got -1'),
    ([dict(num=0, pipeline=[])], 'no views'),
])
def test_multi_crop_validates_groups(groups, match):
    with pytest.raises(ValueError, match=match):
        MultiCrop(groups=groups)


def test_multi_crop_builds_without_default_scope(monkeypatch):
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())  # no scope
    assert DefaultScope.get_current_instance() is None
    t = MultiCrop(groups=[dict(num=1, pipeline=[
        dict(type='RandomApply', prob=1.0, transforms=[dict(type='ColorJitter', brightness=0.4)]),
        dict(type='Solarize', thr=128, prob=1.0)])])
    assert _shapes(t(_results())) == [(40, 50, 3)]
    assert DefaultScope.get_current_instance() is None


# ---------------------------------------------------------- DINOMultiCrop

def test_dino_multi_crop_default_views():
    out = TRANSFORMS.build(dict(type='DINOMultiCrop'))(_results())
    assert _shapes(out) == [(224, 224, 3)] * 2 + [(96, 96, 3)] * 10
    assert all(v.dtype == np.uint8 for v in out['img'])


def test_dino_multi_crop_small_views_many_draws():
    """Many draws exercise every random branch (incl. negative hue)."""
    t = DINOMultiCrop(global_crops_size=32, local_crops_size=16, local_crops_number=3)
    for _ in range(30):
        out = t(_results())
        assert _shapes(out) == [(32, 32, 3)] * 2 + [(16, 16, 3)] * 3


def _by_type(pipeline):
    return {type(tr).__name__: tr for tr in pipeline.transforms}


def test_dino_multi_crop_follows_dino_recipe():
    t = DINOMultiCrop(local_crops_number=4)
    assert t.nums == [1, 1, 4]
    blur = {'GaussianBlur': [], 'Solarize': []}
    for i, pipeline in enumerate(t.pipelines):
        steps = _by_type(pipeline)
        crop = steps['RandomResizedCrop']
        assert crop.interpolation == 'bicubic'
        assert crop.scale == ((224, 224) if i < 2 else (96, 96))
        assert tuple(crop.crop_ratio_range) == ((0.25, 1.0) if i < 2 else (0.05, 0.25))
        assert steps['RandomFlip'].prob == 0.5
        jitter = steps['RandomApply']
        assert jitter.prob == 0.8
        cj = jitter.transforms.transforms[0]
        assert (cj.brightness, cj.contrast, cj.saturation, cj.hue) == (
            (0.6, 1.4), (0.6, 1.4), (0.8, 1.2), (-0.1, 0.1))
        gray = steps['RandomGrayscale']
        assert gray.prob == 0.2 and gray.keep_channels
        gb = steps['GaussianBlur']
        assert tuple(gb.magnitude_range) == (0.1, 2.0) and gb.magnitude_std == 'inf'
        blur['GaussianBlur'].append(gb.prob)
        blur['Solarize'].append(steps['Solarize'].prob if 'Solarize' in steps else 0.0)
    assert blur == {'GaussianBlur': [1.0, 0.1, 0.5], 'Solarize': [0.0, 0.2, 0.0]}
    assert _by_type(t.pipelines[1])['Solarize'].thr == 128


def test_dino_multi_crop_extra_pipelines_and_no_locals():
    t = DINOMultiCrop(global_crops_size=16, local_crops_size=8, local_crops_number=2,
                      global_extra_pipeline=[dict(type='_AddViewMask')])
    out = t(_results())
    assert [m is None for m in out['mask']] == [False, False, True, True]
    t0 = DINOMultiCrop(global_crops_size=16, local_crops_number=0)
    assert _shapes(t0(_results())) == [(16, 16, 3)] * 2


@pytest.mark.parametrize('kwargs, name', [
    (dict(local_crops_number=-1), 'local_crops_number'),
    (dict(local_crops_number=2.5), 'local_crops_number'),
    (dict(global_crops_size=0), 'global_crops_size'),
    (dict(local_crops_size=-5), 'local_crops_size'),
    (dict(global_crops_scale=(0.5, 1.5)), 'global_crops_scale'),
    (dict(local_crops_scale=(0, 0.2)), 'local_crops_scale'),
    (dict(local_crops_scale=(0.4, 0.2)), 'local_crops_scale'),
    (dict(global_crops_scale=0.5), 'global_crops_scale'),
])
def test_dino_multi_crop_validation_names_argument_and_value(kwargs, name):
    value = kwargs[name]
    with pytest.raises(ValueError, match=re.escape(name) + '.*' + re.escape(repr(value))):
        DINOMultiCrop(**kwargs)


# ------------------------------------------------------------ ColorJitter

def test_hue_shift_is_numpy2_safe_and_signed():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 255  # BGR
    plus, minus = adjust_hue_bgr(red, 0.1), adjust_hue_bgr(red, -0.1)
    assert plus[0, 0, 1] > plus[0, 0, 0]  # towards yellow: G > B
    assert minus[0, 0, 0] > minus[0, 0, 1]  # towards magenta: B > G
    img = _results()['img']
    for backend in ('pillow', 'cv2'):  # positive hue: identical to mmcv
        expected = mmcv.adjust_hue(img, 0.07, backend=backend)
        assert np.array_equal(adjust_hue_bgr(img, 0.07, backend), expected)
        assert adjust_hue_bgr(img, -0.07, backend).shape == img.shape


def test_color_jitter_name_resolves_to_hue_safe_version():
    from hssl.datasets.transforms.color import ColorJitter
    with DefaultScope.overwrite_default_scope('hssl'):
        t = TRANSFORMS.build(dict(type='ColorJitter', hue=0.5))
    assert isinstance(t, ColorJitter)
    for _ in range(10):
        t(_results())


# ------------------------------------------------------------- end to end

def test_digits_dino_chain_to_data_preprocessor(data_root):
    """``data_root`` (conftest) sets HSSL_DATA_ROOT to a per-session folder."""
    assert prepare_digits() == str(data_root / 'digits')
    pipeline = [
        dict(type='LoadImage'),
        dict(type='DINOMultiCrop', global_crops_size=32, local_crops_size=16,
             local_crops_number=4),
        dict(type='PackInputs'),
    ]
    with DefaultScope.overwrite_default_scope('hssl'):
        ds = DATASETS.build(dict(type='EmbeddedDigits', split='train', pipeline=pipeline))
        pre = MODELS.build(dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                std=[58.395, 57.12, 57.375], to_rgb=True))
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True, collate_fn=default_collate)
    batch = next(iter(loader))
    out = pre(batch, training=True)
    shapes = [tuple(x.shape) for x in out['inputs']]
    assert shapes == [(4, 3, 32, 32)] * 2 + [(4, 3, 16, 16)] * 4
    assert all(x.dtype == torch.float32 for x in out['inputs'])
    assert len(out['data_samples']) == 4
    assert all(0 <= int(s.gt_label) <= 9 for s in out['data_samples'])
