"""Cutout views and per-view types (multi-task asymmetric Siamese SSL)."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

import hssl.datasets  # noqa: F401  (registers the transforms)
from hssl.datasets.transforms import RandomCutout, cutout_view_pipeline
from hssl.models.algorithms import Siamese
from hssl.registry import MODELS, TRANSFORMS


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


# ------------------------------------------------- per-view-type predictors

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
MLP = dict(type='MoCoV3MLP', hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
TYPES = ['global', 'global', 'cutout', 'local', 'local']


def tiny_moco(kind='MultiTaskMoCoV3', auxiliary=None, intermediate=None,
              loss=dict(type='InfoNCELoss', temperature=0.2), **kw):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type=kind,
        network=dict(type='HeterogeneousNetwork',
                     backbone=dict(type='MoCoV3ViT', arch=ARCH, img_size=32, patch_size=8),
                     projector=dict(MLP, num_layers=3, with_last_bn_affine=False),
                     auxiliary=auxiliary, intermediate=intermediate),
        predictor=dict(MLP, num_layers=2, with_last_bn=False),
        loss=loss, **kw))
    return model


def moco_views(types=TYPES, batch=4):
    g = torch.Generator().manual_seed(0)
    size = {'global': 32, 'cutout': 32, 'local': 16}
    return [torch.randn(batch, 3, size[t], size[t], generator=g) for t in types]


def samples(types=TYPES, batch=4):
    out = [DataSample() for _ in range(batch)]
    for sample in out:
        sample.set_field(list(types), 'view_type')
    return out


def test_two_global_views_are_plain_moco_v3():
    multi, plain = tiny_moco(), tiny_moco('MoCoV3')
    missing, unexpected = multi.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith('view_predictors.') for k in missing)
    v = moco_views(TYPES[:2])
    ours = multi.loss(v, None)
    assert set(ours) == {'loss_base_global'}
    assert torch.allclose(ours['loss_base_global'], plain.loss(v, None)['loss_base'])


def test_each_task_against_hand_computed_terms():
    model = tiny_moco(task_weights=dict(cutout=0.5, local=2.0))
    assert model.task_weights == {'global': 1.0, 'cutout': 0.5, 'local': 2.0}
    preds = model.view_predictors
    assert set(preds) == {'cutout', 'local'} and set(preds['local']) == {'base'}
    assert preds['local']['base'] is not preds['cutout']['base'] is not model.predictors['base']
    v = moco_views()
    losses = model.loss(v, samples())
    assert set(losses) == {'loss_base_global', 'loss_base_cutout', 'loss_base_local'}
    with torch.no_grad():
        k = [model.teacher([x])['base'].cls for x in v[:2]]
    q = [model.student([x])['base'].cls for x in v]
    L = model.criterion
    p = model.predictors['base']
    assert torch.allclose(losses['loss_base_global'], L(p(q[0]), k[1]) + L(p(q[1]), k[0]))
    pc = preds['cutout']['base']
    assert torch.allclose(losses['loss_base_cutout'],
                          0.5 * 2 * (L(pc(q[2]), k[0]) + L(pc(q[2]), k[1])) / 2)
    pl = preds['local']['base']
    local = sum(L(pl(q[i]), k[j]) for i in (3, 4) for j in (0, 1)) / 4
    assert torch.allclose(losses['loss_base_local'], 2.0 * 2 * local)
    # a view type's predictor learns from its own task only
    model.zero_grad()
    losses['loss_base_cutout'].backward()
    assert all(p_.grad is not None for p_ in pc.parameters() if p_.requires_grad)
    assert all(p_.grad is None for p_ in pl.parameters())
    assert all(p_.grad is None for p_ in model.predictors['base'].parameters())


def test_shared_predictor_and_hssl_with_dts_compose():
    shared = tiny_moco(separate_predictors=False)
    assert len(shared.view_predictors) == 0
    model = tiny_moco(auxiliary=dict(type='ConvNeXtHead', depth=1),
                      intermediate=dict(weight=1.0, ramp=None))
    assert model.student.pairs[-1] == ('aux', ('layer_0',), 1.0)  # SDSSL: learns the final target
    assert set(model.view_predictors['local']) == {'base', 'aux', 'layer_0'}
    losses = model.loss(moco_views(), samples())
    assert set(losses) == {f'loss_{b}_{t}' for b in ('base', 'aux', 'layer_0')
                           for t in ('global', 'cutout', 'local')}
    model.zero_grad()
    losses['loss_layer_0_local'].backward()  # reaches block 0, not block 1
    blocks = model.student.backbone.layers
    assert blocks[0].attn.qkv.weight.grad.abs().sum() > 0 and blocks[1].attn.qkv.weight.grad is None


def test_view_type_errors_are_named():
    model = tiny_moco()
    with pytest.raises(KeyError, match='no "view_type"'):
        model.loss(moco_views(), None)
    with pytest.raises(ValueError, match='exactly 2 global views'):
        model.loss(moco_views(), samples(['global'] * 3 + ['local'] * 2))
    with pytest.raises(KeyError, match="unknown view type"):
        tiny_moco(task_weights=dict(masked=1.0))


# ------------------------------------------------------------------ configs

MULTITASK_CONFIGS = ['multitask/mocov3-multitask_vits16_100e_in1k.py',
                     'multitask/mocov3-multitask-shared_vits16_100e_in1k.py',
                     'multitask/mocov3-multitask_vits16_convnext_100e_in1k.py',
                     'multitask/mocov3-multitask-shared_vits16_convnext_100e_in1k.py',
                     'multitask/byol-multitask_vits16_100e_in1k.py',
                     'multitask/simsiam-multitask_vits16_100e_in1k.py']


def test_multitask_configs_differ_only_by_predictors_and_head(assert_differs_only_by_head, load):
    sep, shared = load(MULTITASK_CONFIGS[0]), load(MULTITASK_CONFIGS[1])
    assert sep.model.pop('separate_predictors') and not shared.model.pop('separate_predictors')
    assert sep.model == shared.model and sep.train_dataloader == shared.train_dataloader
    assert_differs_only_by_head(MULTITASK_CONFIGS[0], MULTITASK_CONFIGS[2])
    assert_differs_only_by_head(MULTITASK_CONFIGS[1], MULTITASK_CONFIGS[3])


@pytest.mark.parametrize('name', MULTITASK_CONFIGS)
def test_every_multitask_config_trains_an_iteration_at_reduced_size(name, load):
    """The config's own view pipeline (at 32 / 16 px), collate, preprocessor, loss."""
    from mmengine.dataset import default_collate
    cfg = load(name)
    crop, pack = cfg.train_dataloader.dataset.pipeline[1:]
    crop.update(global_crops_size=32, local_crops_size=16, local_crops_number=2, cutout_number=1)
    crop, pack = TRANSFORMS.build(crop), TRANSFORMS.build(pack)
    batch = default_collate([pack(crop(dict(img=_image(seed=i), img_shape=(48, 40))))
                             for i in range(4)])
    net = cfg.model.network
    net.backbone.update(arch=ARCH, img_size=32, patch_size=8)
    net.projector.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
    cfg.model.predictor.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert isinstance(model, Siamese) and model.view_types == ('global', 'cutout', 'local')
    assert len(model.view_predictors) == (2 if cfg.model.separate_predictors else 0)
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    branches = ('base', 'aux') if 'convnext' in name else ('base',)
    assert set(losses) == {f'loss_{b}_{t}' for b in branches for t in ('global', 'cutout', 'local')}
    assert all(torch.isfinite(x) for x in losses.values())
    sum(losses.values()).backward()
    assert model.student.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0


# ------------------------------------------------------------- BYOL, SimSiam

def _cos(a, b):
    return torch.nn.functional.cosine_similarity(a, b, dim=-1).mean()


def test_byol_two_views_is_its_normalised_mse_against_the_target_network():
    model = tiny_moco('BYOL', separate_predictors=False,
                      loss=dict(type='CosineSimilarityLoss', shift_factor=2.0, scale_factor=2.0))
    assert len(model.view_predictors) == 0
    x1, x2 = moco_views(TYPES[:2])
    losses = model.loss([x1, x2], None)
    with torch.no_grad():
        k1, k2 = (model.teacher([x])['base'].cls for x in (x1, x2))
    p = model.predictors['base']
    q1, q2 = (p(model.student([x])['base'].cls) for x in (x1, x2))
    expected = (2 - 2 * _cos(q1, k2)) + (2 - 2 * _cos(q2, k1))
    assert torch.allclose(losses['loss_base_global'], expected, atol=1e-6)


def test_simsiam_keys_are_the_students_own_projections_without_gradient():
    model = tiny_moco('SimSiam', loss=dict(type='CosineSimilarityLoss', scale_factor=0.5))
    assert not hasattr(model, 'teacher')
    v = moco_views()
    losses = model.loss(v, samples())
    z = [model.student([x])['base'].cls for x in v]
    p = model.predictors['base']
    expected = -(_cos(p(z[0]), z[1].detach()) + _cos(p(z[1]), z[0].detach())) / 2
    assert torch.allclose(losses['loss_base_global'], expected, atol=1e-6)
    pl = model.view_predictors['local']['base']
    local = sum(-0.5 * _cos(pl(z[i]), z[j]) for i in (3, 4) for j in (0, 1)) / 4
    assert torch.allclose(losses['loss_base_local'], 2 * local, atol=1e-6)
    # stop-gradient: the model's gradients are those of the hand loss with detached keys
    def projector_grad(loss):
        model.zero_grad()
        loss.backward()
        return model.student.projectors['base'].fc0.weight.grad.clone()

    ours = projector_grad(model.loss(v[:2], None)['loss_base_global'])
    z = [model.student([x])['base'].cls for x in v[:2]]
    stopped = projector_grad(-(_cos(p(z[0]), z[1].detach()) + _cos(p(z[1]), z[0].detach())) / 2)
    z = [model.student([x])['base'].cls for x in v[:2]]
    through = projector_grad(-(_cos(p(z[0]), z[1]) + _cos(p(z[1]), z[0])) / 2)
    assert torch.allclose(ours, stopped, atol=1e-6) and not torch.allclose(ours, through, atol=1e-6)


@pytest.mark.parametrize('name', ['byol/byol_vits16_100e_in1k.py',
                                  'simsiam/simsiam_vits16_100e_in1k.py'])
def test_two_view_byol_and_simsiam_configs_train_an_iteration_at_reduced_size(name, load):
    cfg = load(name)
    net = cfg.model.network
    net.backbone.update(arch=ARCH, img_size=32, patch_size=8)
    net.projector.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
    cfg.model.predictor.update(hid_channels=8, out_channels=16, norm_cfg=dict(type='BN1d'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert hasattr(model, 'teacher') == (cfg.model.type == 'BYOL') == bool(cfg.custom_hooks)
    losses = model.loss(moco_views(TYPES[:2]), None)
    assert set(losses) == {'loss_base_global'} and torch.isfinite(losses['loss_base_global'])
    sum(losses.values()).backward()
    assert model.student.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
