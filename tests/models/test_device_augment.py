"""The device augmentation path (DINOGeometricMultiCrop on the CPU +
MultiViewAugmentPreprocessor with DINOColorAugment), run on CPU tensors,
against the CPU pipeline (LoadImage + DINOMultiCrop + SelfSupDataPreprocessor).

Stated tolerances: application rates within 4 binomial standard errors of the
CPU pipeline's probabilities; per-channel mean and std of the colour-augmented
views within 0.03 (of the [0, 1] pixel range) of the PIL pipeline's on the
same crops; end to end, per-image channel means and stds within 4 standard
errors; reduced-size decoding at least 30 dB PSNR from full-size decoding.
"""
import math
import random

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

import hssl.datasets  # noqa: F401
import hssl.models  # noqa: F401
from hssl.datasets.synthetic import synthetic_photo, write_synthetic_jpegs
from hssl.datasets.transforms import (DINOGeometricMultiCrop, ImageLoadError, build_transforms,
                                      dino_view_pipeline, draft_scale)
from hssl.datasets.transforms.geometric_crops import LazyImage
from hssl.models.data_preprocessors import DINOColorAugment, ViewColorAugment
from hssl.registry import MODELS

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _cpu_probs(blur, solarize):
    """The probabilities the CPU pipeline's configs give each colour step."""
    cfg = {t['type']: t for t in dino_view_pipeline(8, (0.5, 1.0), blur, solarize)}
    return dict(jitter=cfg['RandomApply']['prob'], gray=cfg['RandomGrayscale']['prob'],
                blur=cfg['GaussianBlur']['prob'],
                solarize=cfg['Solarize']['prob'] if 'Solarize' in cfg else 0.0)


@pytest.mark.parametrize('blur,solarize', [(1.0, 0.0), (0.1, 0.2), (0.5, 0.0)])
def test_application_rates_match_the_cpu_pipeline(blur, solarize):
    torch.manual_seed(0)
    n = 4000
    aug = ViewColorAugment(blur_prob=blur, solarize_prob=solarize)
    aug(torch.rand(n, 3, 4, 4))
    rates = {k: float(v.float().mean()) for k, v in aug.applied().items()}
    for step, p in _cpu_probs(blur, solarize).items():
        if p == 0:
            assert step not in aug.steps
            continue
        se = math.sqrt(p * (1 - p) / n)
        tol = 4 * se if p < 1 else 0.0
        assert abs(rates[step] - p) <= tol, (step, rates[step], p)


def test_parameter_ranges_are_the_cpu_pipelines():
    torch.manual_seed(0)
    aug = ViewColorAugment(jitter_prob=1.0, gray_prob=0.0, blur_prob=1.0)
    aug(torch.rand(2000, 3, 4, 4))
    jitter = aug.steps['jitter']._params
    cpu = build_transforms(dino_view_pipeline(8, (0.5, 1.0), 1.0))
    cj = cpu[2].transforms.transforms[0]  # RandomApply -> Compose -> ColorJitter
    for key, name in (('brightness_factor', 'brightness'), ('contrast_factor', 'contrast'),
                      ('saturation_factor', 'saturation'), ('hue_factor', 'hue')):
        lo, hi = getattr(cj, name)
        values = jitter[key]
        assert lo <= float(values.min()) and float(values.max()) <= hi, key
        # the draws fill the range (uniform): within 2% of either end
        assert float(values.min()) - lo < 0.02 * (hi - lo) and hi - float(values.max()) < 0.02 * (hi - lo)
    sigma = aug.steps['blur']._params['sigma']
    blur = cpu[4]
    assert blur.magnitude_range == (0.1, 2.0)
    assert 0.1 <= float(sigma.min()) and float(sigma.max()) <= 2.0
    assert float(sigma.min()) < 0.15 and float(sigma.max()) > 1.95
    assert aug.kernel_size == 13  # +-3 sigma at sigma = 2


def test_solarize_threshold_is_pils_128():
    aug = ViewColorAugment(jitter_prob=0, gray_prob=0, blur_prob=0, solarize_prob=1.0)
    x = torch.tensor([0, 127, 128, 255], dtype=torch.float32).div(255).view(1, 1, 2, 2)
    out = aug(x.expand(1, 3, 2, 2).contiguous())[0, 0].flatten() * 255
    assert torch.allclose(out, torch.tensor([0., 127., 127., 0.]), atol=1e-4)


def _photo_crops(n, size=32, seed=0):
    """uint8 HWC BGR crops of generated photographs (the colour steps' input)."""
    rng = np.random.default_rng(seed)
    photos = [np.asarray(synthetic_photo((96, 72), seed + i))[..., ::-1] for i in range(8)]
    crops = []
    for i in range(n):
        p = photos[i % len(photos)]
        top, left = rng.integers(0, 72 - size), rng.integers(0, 96 - size)
        crops.append(np.ascontiguousarray(p[top:top + size, left:left + size]))
    return crops


@pytest.mark.parametrize('blur,solarize', [(1.0, 0.0), (0.1, 0.2)])
def test_per_channel_statistics_match_the_pil_pipeline(blur, solarize):
    """The same crops, coloured by the PIL pipeline and by the device path:
    per-channel mean and std over all views agree within 0.03 (of 1)."""
    np.random.seed(0)
    torch.manual_seed(0)
    crops = _photo_crops(600)
    colour = build_transforms(dino_view_pipeline(32, (0.5, 1.0), blur, solarize)[2:])
    cpu = []
    for c in crops:
        r = dict(img=c.copy())
        for t in colour:
            r = t(r)
        cpu.append(r['img'][..., ::-1])  # RGB
    cpu = torch.from_numpy(np.stack(cpu)).permute(0, 3, 1, 2).float() / 255
    dev_in = torch.from_numpy(np.stack([c[..., ::-1] for c in crops])).permute(0, 3, 1, 2)
    dev = ViewColorAugment(blur_prob=blur, solarize_prob=solarize)(dev_in.float() / 255)
    for stat in (lambda x: x.mean((0, 2, 3)), lambda x: x.std((0, 2, 3))):
        assert torch.allclose(stat(cpu), stat(dev), atol=0.03), (stat(cpu), stat(dev))
    # and the augmentation did something: far from the input's statistics
    assert (dev - dev_in.float() / 255).abs().mean() > 0.05


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp('photos')
    return write_synthetic_jpegs(str(folder), 6, size=(120, 90))


def _pipeline(kind, local=2):
    crops = dict(global_crops_size=32, local_crops_size=16, global_crops_scale=(0.25, 1.0),
                 local_crops_scale=(0.05, 0.25), local_crops_number=local,
                 global_extra_pipeline=[dict(type='BlockMaskGenerator', patch_size=4,
                                             pred_ratio=0.3, pred_ratio_var=0.1)])
    head = [dict(type='LoadImage'), dict(type='DINOMultiCrop', **crops)] if kind == 'cpu' \
        else [dict(type='DINOGeometricMultiCrop', **crops)]
    return build_transforms(head + [dict(type='PackInputs', algorithm_keys=['patch_mask'])])


def _run(pipeline, path):
    r = dict(img_path=path)
    for t in pipeline:
        r = t(r)
    return r


def _preprocessor(device_aug, local=2):
    cfg = dict(mean=MEAN, std=STD, to_rgb=True)
    if device_aug:
        cfg.update(type='MultiViewAugmentPreprocessor',
                   augment=dict(type='DINOColorAugment', local_crops_number=local))
    else:
        cfg.update(type='SelfSupDataPreprocessor')
    return MODELS.build(cfg)


def test_cpu_part_gives_uint8_views_and_blockmask_generators_masks(photos):
    """uint8 views of the CPU pipeline's shapes; the masks are exactly those
    the recipe's BlockMaskGenerator draws (same Python random state)."""
    cpu, dev = _pipeline('cpu'), _pipeline('device')
    masker = cpu[1].pipelines[0].transforms[-1]  # DINOMultiCrop's global mask generator
    for path in photos[:3]:
        a = _run(cpu, path)
        random.seed(1)
        b = _run(dev, path)
        assert [v.shape for v in a['inputs']] == [v.shape for v in b['inputs']]
        assert all(v.dtype == torch.uint8 for v in b['inputs'])
        random.seed(1)
        expected = [masker(dict(img=np.zeros((32, 32, 3))))['patch_mask'] for _ in range(2)]
        masks = b['data_samples'].patch_mask
        assert all(np.array_equal(m, e) for m, e in zip(masks[:2], expected))
        assert masks[2:] == [None, None]  # local views carry no mask, as in DINOMultiCrop
        assert b['data_samples'].ori_shape == (90, 120)


def test_device_path_statistics_match_the_cpu_pipeline(photos):
    """End to end (decode, crops, colour, normalisation): each view's per-image,
    per-channel mean and std average the same in both paths, within 4 standard
    errors of the difference of two independent samples of 100 images."""
    np.random.seed(0)
    random.seed(0)
    torch.manual_seed(0)
    out = {}
    for kind in ('cpu', 'device'):
        pipeline = _pipeline(kind)
        batch = default_collate([_run(pipeline, photos[i % len(photos)]) for i in range(100)])
        out[kind] = _preprocessor(kind == 'device')(batch, True)['inputs']
    for i in (0, 1, 2):  # global 1, global 2, a local view
        a, b = out['cpu'][i], out['device'][i]
        assert a.shape == b.shape and b.dtype == torch.float32
        for stat in (lambda x: x.mean((2, 3)), lambda x: x.std((2, 3))):  # (N, 3) per image
            sa, sb = stat(a), stat(b)
            se = (sa.var(0) / len(sa) + sb.var(0) / len(sb)).sqrt()
            assert ((sa.mean(0) - sb.mean(0)).abs() <= 4 * se).all(), (i, sa.mean(0), sb.mean(0), se)


def test_preprocessor_passes_masks_and_skips_augmentation_in_eval(photos):
    pipeline = _pipeline('device')
    batch = default_collate([_run(pipeline, p) for p in photos[:2]])
    pre = _preprocessor(True)
    masks = [s.patch_mask[0].copy() for s in batch['data_samples']]
    out = pre(batch, True)
    assert all(np.array_equal(m, s.patch_mask[0]) for m, s in zip(masks, out['data_samples']))
    # eval: exactly SelfSupDataPreprocessor's normalisation (no augmentation)
    plain = _preprocessor(False)(batch, False)['inputs']
    evaluated = pre(batch, False)['inputs']
    assert all(torch.equal(a, b) for a, b in zip(plain, evaluated))


def test_view_count_mismatch_is_one_clear_error(photos):
    batch = default_collate([_run(_pipeline('device', local=2), photos[0])])
    with pytest.raises(ValueError, match='got 4 views per image, expected 12'):
        _preprocessor(True, local=10)(batch, True)
    with pytest.raises(ValueError, match='augment must be a config dict'):
        MODELS.build(dict(type='MultiViewAugmentPreprocessor', augment='kornia'))


def test_draft_scale_keeps_every_crop_at_least_its_output_size():
    # boxes (top, left, h, w); outputs 224, 96
    assert draft_scale((1000, 800), [(0, 0, 500, 480), (0, 0, 96 * 3, 96 * 3)], [224, 96]) == 2
    assert draft_scale((2000, 1600), [(0, 0, 1800, 1800), (0, 0, 900, 900)], [224, 96]) == 8
    assert draft_scale((500, 375), [(0, 0, 375, 375), (0, 0, 100, 100)], [224, 96]) == 1


def test_reduced_decoding_psnr_against_full_decoding(tmp_path):
    """Views from DCT-reduced decoding are within 30 dB PSNR of full decoding's."""
    path = str(tmp_path / 'big.jpg')
    synthetic_photo((1600, 1200), seed=3).save(path, quality=90)
    t = DINOGeometricMultiCrop(224, 96, (0.5, 1.0), (0.2, 0.4), local_crops_number=4)
    np.random.seed(0)
    scales, worst = [], math.inf
    for _ in range(5):
        lazy = LazyImage(path)
        boxes = t.draw_boxes(*lazy.size)
        scale = draft_scale(lazy.size, boxes, t.out_sizes)
        full, *full_f = lazy.decode(1)
        reduced, *red_f = lazy.decode(scale)
        assert reduced.shape[1] == math.ceil(1600 / scale)
        scales.append(scale)
        state = np.random.get_state()
        a = t.crop_views(full, full_f, boxes)
        np.random.set_state(state)  # the same flips
        b = t.crop_views(reduced, red_f, boxes)
        for x, y in zip(a, b):
            mse = np.mean((x.astype(np.float64) - y) ** 2)
            worst = min(worst, 10 * np.log10(255 ** 2 / mse))
    assert min(scales) >= 2  # reduced decoding did happen
    assert worst > 30, worst


def test_bad_files_name_the_path(tmp_path):
    t = DINOGeometricMultiCrop(32, 16, local_crops_number=1)
    with pytest.raises(FileNotFoundError):
        t(dict(img_path=str(tmp_path / 'missing.jpg')))
    for name, data in (('empty.jpg', b''), ('junk.jpg', b'not an image')):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageLoadError, match=name):
            t(dict(img_path=str(tmp_path / name)))


def test_dino_color_augment_groups_views_in_dino_order():
    aug = DINOColorAugment(local_crops_number=3)
    assert aug.nums == [1, 1, 3] and aug.num_views == 5
    probs = [a.probs for a in aug.augments]
    assert [p['blur'] for p in probs] == [1.0, 0.1, 0.5]
    assert [p['solarize'] for p in probs] == [0.0, 0.2, 0.0]
    views = [torch.rand(2, 3, 16, 16)] * 2 + [torch.rand(2, 3, 8, 8)] * 3
    out = aug(views)
    assert [v.shape for v in out] == [v.shape for v in views]


def test_cv2_resize_backend_within_35_db_of_pillows(photos):
    """backend='cv2' (area / bicubic) against Pillow's bicubic on the same boxes."""
    pil, fast = DINOGeometricMultiCrop(32, 16, local_crops_number=2), \
        DINOGeometricMultiCrop(32, 16, local_crops_number=2, backend='cv2')
    np.random.seed(0)
    worst = math.inf
    for path in photos:
        lazy = LazyImage(path)
        boxes = pil.draw_boxes(*lazy.size)
        img, *factors = lazy.decode(1)
        state = np.random.get_state()
        a = pil.crop_views(img, factors, boxes)
        np.random.set_state(state)
        b = fast.crop_views(img, factors, boxes)
        for x, y in zip(a, b):
            assert x.shape == y.shape and y.dtype == np.uint8
            mse = max(np.mean((x.astype(np.float64) - y) ** 2), 1e-12)
            worst = min(worst, 10 * np.log10(255 ** 2 / mse))
    assert worst > 35, worst
    with pytest.raises(ValueError, match="backend must be 'pillow' or 'cv2'"):
        DINOGeometricMultiCrop(backend='torch')


def test_device_config_is_the_recipe_switched(load):
    """configs/hssl/ibot_vitb16_convnext_deviceaug-100e_in1k.py = use_device_augmentation(recipe)."""
    from hssl.datasets.transforms import use_device_augmentation
    recipe = load('hssl/ibot_vitb16_convnext_100e_in1k.py')
    device = load('hssl/ibot_vitb16_convnext_deviceaug-100e_in1k.py')
    use_device_augmentation(recipe)
    assert recipe.train_dataloader.dataset.pipeline == device.train_dataloader.dataset.pipeline
    assert recipe.model.data_preprocessor == device.model.data_preprocessor
    with pytest.raises(ValueError, match='must start with LoadImage, DINOMultiCrop'):
        use_device_augmentation(dict(train_dataloader=dict(dataset=dict(
            pipeline=[dict(type='LoadImage'), dict(type='RandomResizedCrop')])),
            model=dict(data_preprocessor=dict())))


def test_ibot_hssl_trains_on_the_device_path(tmp_path, data_root):
    """The tiny iBOT + HSSL config, switched to the device path, trains with the
    runner (CPU tensors): finite losses, the teacher moves."""
    import os
    import os.path as osp
    from mmengine.config import Config
    from hssl.datasets.transforms import use_device_augmentation
    from hssl.apis import build_runner
    from tests import DATA
    cfg = Config.fromfile(osp.join(DATA, 'tiny_ibot_digits_config.py'))
    use_device_augmentation(cfg)
    assert cfg.model.data_preprocessor.type == 'MultiViewAugmentPreprocessor'
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.experiment_name = f'ibot_device_{os.getpid()}'
    runner = build_runner(cfg)
    before = [p.detach().clone() for p in runner.model.teacher.module.parameters()]
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(loss) == 4 and np.isfinite(loss).all()
    after = list(runner.model.teacher.module.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
