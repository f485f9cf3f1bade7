"""Every shipped ImageNet recipe against the official training (fp64, reduced width).

For each config of ``recipes.RECIPES``: the schedules (lr, weight decay, teacher
momentum and temperatures at every iteration of a short epoch), the static
hyper-parameters, the gradient clipping of one optimiser step, the loss total on
random images against the official loss written out in ``official.py``, and the
initialisation.
"""
import copy
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from hssl.engine.hooks import EMATeacherHook, FreezeLastLayerHook, TeacherTempHook
from hssl.engine.runner import HSSLRunner
from hssl.registry import MODELS, PARAM_SCHEDULERS
from tests import REPO
from tests.reference import official
from tests.reference.recipes import RECIPES

EPOCH_LENGTH = 3  # iterations per epoch in the schedule checks
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


DINO_LIKE = sorted(n for n, r in RECIPES.items() if r['method'] == 'dino')
IBOT_LIKE = sorted(n for n, r in RECIPES.items() if r['method'] == 'ibot')
MOCO_LIKE = sorted(n for n, r in RECIPES.items() if r['method'] == 'mocov3')
MAE_LIKE = sorted(n for n, r in RECIPES.items() if r['method'] == 'mae')


def load(name: str) -> Config:
    return Config.fromfile(osp.join(REPO, 'configs', name))


def hook(cfg, cls):
    found = [h for h in cfg.custom_hooks if h['type'] == cls.__name__]
    return cls(**{k: v for k, v in found[0].items() if k != 'type'}) if found else None


def multi_crop(cfg):
    return next(t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'DINOMultiCrop')


def scaled_wrapper(cfg, model, gpus: int):
    """The optimiser wrapper as the runner builds it, lr scaled for ``gpus`` GPUs."""
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    runner = HSSLRunner.__new__(HSSLRunner)  # only what scale_lr reads
    runner._world_size, runner._train_dataloader = gpus, cfg.train_dataloader
    runner.param_schedulers = None
    runner.logger = type('Quiet', (), {'info': staticmethod(lambda *a, **k: None)})()
    runner.scale_lr(wrapper, cfg.get('auto_scale_lr'))
    return wrapper


def reduced(cfg: Config) -> Config:
    """The recipe's model at a width that trains in milliseconds, without drop path."""
    m = copy.deepcopy(cfg.model)
    backbone = m.network.backbone
    backbone.update(arch=TINY, img_size=32)
    if backbone.type == 'ViT':
        backbone.drop_path_rate = 0.0
    proj = m.network.projector
    if proj is not None and proj.type == 'DINOProjectionHead':
        proj.update(out_channels=64, hidden_channels=32, bottleneck_channels=16)
        for key in ('loss', 'patch_loss'):
            if key in m:
                m[key].out_channels = 64
    if 'decoder' in m:  # MAE
        m.decoder.update(num_patches=4, decoder_embed_dim=16, decoder_depth=1,
                         decoder_num_heads=2)
    if proj is not None and proj.type == 'MoCoV3MLP':
        proj.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
        m.predictor.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
    return m


def build(cfg: Config, seed: int = 0):
    torch.manual_seed(seed)
    model = MODELS.build(reduced(cfg))
    model.init_weights()
    return model.double()


def loss_total(losses) -> torch.Tensor:
    return sum(v for k, v in losses.items() if k.startswith('loss'))


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_schedules_are_official(name):
    cfg, ref = load(name), RECIPES[name]
    # a weight, a bias and a norm: the parameter groups the recipes' paramwise_cfg makes
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    wrapper = scaled_wrapper(cfg, model, ref['gpus'])
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    assert cfg.train_dataloader.batch_size * ref['gpus'] * accumulate == ref['total_batch']
    assert cfg.train_cfg.max_epochs == ref['epochs']
    schedulers = [PARAM_SCHEDULERS.build(s, default_args=dict(optimizer=wrapper,
                                                              epoch_length=EPOCH_LENGTH))
                  for s in cfg.param_scheduler]
    iters = ref['epochs'] * EPOCH_LENGTH
    groups = wrapper.optimizer.param_groups
    decayed = [g for g in groups if g['weight_decay'] > 0]
    lrs, wds = [], []
    for _ in range(iters):
        lrs.append([g['lr'] for g in groups])
        wds.append([g['weight_decay'] for g in decayed])
        wrapper.optimizer.step()
        for s in schedulers:
            s.step()
    peak = ref['lr'] * ref['total_batch'] / 256
    if ref['warmup'] == 'linspace':  # DINO / iBOT utils.cosine_scheduler
        lr_ref = official.cosine_scheduler(peak, ref['min_lr'], ref['epochs'], EPOCH_LENGTH,
                                           ref['warmup_epochs'])
    else:  # MoCo v3 / MAE adjust_learning_rate at the fractional epoch
        lr_ref = [official.adjust_learning_rate(t / EPOCH_LENGTH, peak, ref['warmup_epochs'],
                                                ref['epochs'], ref['min_lr']) for t in range(iters)]
    np.testing.assert_allclose(np.array(lrs), np.array(lr_ref)[:, None].repeat(len(groups), 1),
                               rtol=1e-9, atol=1e-15)
    wd0, wd1 = ref['weight_decay']
    wd_ref = official.cosine_scheduler(wd0, wd1, ref['epochs'], EPOCH_LENGTH)
    np.testing.assert_allclose(np.array(wds), wd_ref[:, None].repeat(len(decayed), 1), rtol=1e-9)

    ema = hook(cfg, EMATeacherHook)
    if ref['momentum'] is None:
        assert ema is None
    else:
        np.testing.assert_allclose([ema.momentum_at(t, iters) for t in range(iters)],
                                   official.cosine_scheduler(ref['momentum'], 1, ref['epochs'],
                                                             EPOCH_LENGTH), rtol=1e-12)
    if 'teacher_temp' in ref:
        warm, temp, epochs = ref['teacher_temp']
        tt = hook(cfg, TeacherTempHook)
        if ref['method'] == 'ibot':  # iBOT's one warm-up length for both temperatures
            patch_warm, patch_temp, patch_epochs = ref['teacher_patch_temp']
            assert patch_epochs == epochs
            cls, patch = official.teacher_temp_schedules(warm, temp, patch_warm, patch_temp,
                                                         epochs, ref['epochs'])
            np.testing.assert_allclose([tt.temp_at(e, True) for e in range(ref['epochs'])], patch)
        else:
            cls, _ = official.teacher_temp_schedules(warm, temp, warm, temp, epochs, ref['epochs'])
        np.testing.assert_allclose([tt.temp_at(e) for e in range(ref['epochs'])], cls)
        assert hook(cfg, FreezeLastLayerHook).epochs == ref['freeze_last_layer']


@pytest.mark.parametrize('name', sorted(n for n, r in RECIPES.items() if 'out_dim' in r))
def test_static_hyper_parameters_are_official(name):  # DINO / iBOT
    cfg, ref = load(name), RECIPES[name]
    proj = cfg.model.network.projector
    assert proj.out_channels == ref['out_dim'] and proj.norm_last_layer == ref['norm_last_layer']
    assert proj.get('patch_out_channels') is None  # iBOT's shared_head: one last layer
    crops = multi_crop(cfg)
    assert tuple(crops.global_crops_scale) == ref['global_crops_scale']
    assert tuple(crops.local_crops_scale) == ref['local_crops_scale']
    assert crops.local_crops_number == ref['local_crops_number']
    if ref['method'] == 'ibot':
        (mask,) = crops.global_extra_pipeline
        assert (tuple(mask.pred_ratio), tuple(mask.pred_ratio_var)) == \
            (ref['pred_ratio'], ref['pred_ratio_var'])


@pytest.mark.parametrize('name', MOCO_LIKE)
def test_mocov3_mlps_end_with_an_affine_free_bn(name):
    """moco/builder.py: projector _build_mlp(3, ...) and predictor _build_mlp(2, ...), both
    Linear without bias ... then BatchNorm1d(affine=False)."""
    model = build(load(name))
    for mlp in list(model.student.projectors.values()) + list(model.predictors.values()):
        last = list(mlp.modules())[-1]
        assert isinstance(last, torch.nn.BatchNorm1d) and not last.affine
        assert all(m.bias is None for m in mlp.modules() if isinstance(m, torch.nn.Linear))


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_one_step_clips_as_the_official_code(name):
    cfg, ref = load(name), RECIPES[name]
    model = build(cfg)
    wrapper = scaled_wrapper(cfg, model, ref['gpus'])
    if ref['clip'] is None:
        assert not cfg.optim_wrapper.get('clip_grad')
        return
    mode, threshold = ref['clip']
    assert cfg.optim_wrapper.clip_grad == dict(type=mode, max_norm=threshold)
    params = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    g = torch.Generator().manual_seed(0)
    for i, p in enumerate(params):  # gradients around the threshold, some far above
        p.grad = torch.randn(p.shape, generator=g, dtype=p.dtype) * threshold * (0.01 + i % 5)
    expected = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for e, p in zip(expected, params):
        e.grad = p.grad.clone()
    official.clip_gradients(expected, threshold)
    wrapper.step()
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.grad, e.grad, rtol=0, atol=0)


def _views(B=2, locals_=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(B, 3, 32, 32, generator=g, dtype=torch.float64) for _ in range(2)]
            + [torch.randn(B, 3, 16, 16, generator=g, dtype=torch.float64) for _ in range(locals_)])


def _randomise_centres(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    for name, buf in model.named_buffers():
        if name.endswith('center'):
            buf.copy_(torch.randn(buf.shape, generator=g, dtype=buf.dtype) * 0.1)


@pytest.mark.parametrize('name', DINO_LIKE)
def test_dino_loss_total_is_official(name):
    model = build(load(name))
    _randomise_centres(model)
    views = _views(locals_=3)
    for c in model.criteria.values():
        c.teacher_temp = 0.05
    net = model.student
    with torch.no_grad():
        teacher = model.teacher(views[:2])
        student = model.student(views)
    ref = 0.0
    for target, predictions, _ in net.hssl_pairs:  # the HSSL code: mean over the predictions
        center = model.criteria[target].center.clone()
        ref += sum(official.dino_loss(student[p].cls, teacher[target].cls, center, len(views), 0.05)
                   for p in predictions) / len(predictions)
    ours = loss_total(model.loss(views, None))
    assert math.isclose(float(ours), float(ref), rel_tol=1e-12)


@pytest.mark.parametrize('patch_level', [False, True])
@pytest.mark.parametrize('name', IBOT_LIKE)
def test_ibot_loss_total_is_the_hssl_codes(name, patch_level):
    cfg = load(name)
    cfg.model.patch_level_hssl = patch_level
    model = build(cfg)
    if patch_level and not model.student.aux_heads:
        pytest.skip('patch-level HSSL needs an auxiliary head')
    _randomise_centres(model)
    for c in model.criteria.values():
        c.teacher_temp = 0.05
    for c in model.patch_criteria.values():
        c.teacher_temp = 0.06
    views = _views(locals_=3)
    g = torch.Generator().manual_seed(2)
    masks = [torch.rand(2, 2, 2, generator=g) < 0.5 for _ in range(2)]
    masks[0][0] = False  # an image without masked tokens
    with torch.no_grad():
        t = model.teacher(views[:2], num_patch_views=2)
        s = model.student(views, masks=masks + [None] * 3, num_patch_views=2)
    aux = bool(model.student.aux_heads)
    cls_target = 'aux' if aux else 'base'
    patch_target = 'aux' if patch_level else 'base'
    ref = official.hssl_pretrain_loss(
        (s['base'].cls, s['base'].patch),
        (s['aux'].cls, s['aux'].patch if patch_level else None) if aux else None,
        (t[cls_target].cls, t[patch_target].patch), masks,
        model.criteria[cls_target].center.clone(), model.patch_criteria[patch_target].center.clone(),
        0.05, 0.06, ngcrops=2, nlcrops=3)
    ours = loss_total(model.loss(views, None, masks=masks))
    assert math.isclose(float(ours), float(ref), rel_tol=1e-12)


@pytest.mark.parametrize('name', MOCO_LIKE)
def test_mocov3_loss_total_is_official(name):
    model = build(load(name))
    views = _views(locals_=0)
    with torch.no_grad():
        keys = [model.teacher([v]) for v in views]
        queries = [model.student([v]) for v in views]
        ref = 0.0
        for target, predictions, _ in model.student.hssl_pairs:
            for p in predictions:
                q1, q2 = (model.predictors[p](q[p].cls) for q in queries)
                k1, k2 = (k[target].cls for k in keys)
                ref += (official.moco_contrastive_loss(q1, k2)
                        + official.moco_contrastive_loss(q2, k1)) / len(predictions)
        ours = loss_total(model.loss(views, None))
    assert math.isclose(float(ours), float(ref), rel_tol=1e-10)


@pytest.mark.parametrize('name', MAE_LIKE)
def test_mae_pixel_loss_is_maes_forward_loss(name):
    """The pixel reconstruction term (the base model's in MAE, the head's with HSSL,
    App. D) is MAE's forward_loss with norm_pix_loss on the decoder's prediction."""
    from hssl.models.algorithms.mae import random_patch_mask, restore_ids
    model = build(load(name))
    g = torch.Generator().manual_seed(0)
    img = torch.randn(2, 3, 32, 32, generator=g, dtype=torch.float64)
    torch.manual_seed(3)
    losses = model.loss([img], None)
    torch.manual_seed(3)  # the same random mask
    mask = random_patch_mask(2, 4, model.mask_ratio)
    with torch.no_grad():
        out = model.student([img], masks=[mask.view(2, 2, 2)], num_patch_views=1)
    (pixels, _, _), = model.student.hssl_pairs  # the pair's target branch reconstructs pixels
    o = out[pixels]
    ids = torch.arange(4).expand(2, -1) if o.patch.shape[1] == 4 else restore_ids(mask)
    with torch.no_grad():
        pred = model.decoders[pixels](torch.cat((o.cls.unsqueeze(1), o.patch), dim=1), ids)
    ref = official.mae_forward_loss(official.patchify(img, 16), pred, mask.double())
    assert math.isclose(float(losses[f'loss_{pixels}']), float(ref), rel_tol=1e-10)


@pytest.mark.parametrize('name', DINO_LIKE + IBOT_LIKE)
def test_initialisation_is_dinos(name):
    """DINO / iBOT's ViT init; the HSSL code's head init (Linear and LayerNorm only)."""
    model = build(load(name)).float()
    bb = model.student.backbone
    for tensor in (bb.cls_token, bb.pos_embed):
        assert 0.012 < float(tensor.std()) < 0.028  # trunc normal, std 0.02
    if bb.mask_token is not None:
        assert (bb.mask_token == 0).all()  # iBOT's masked_embed
    for name, m in model.student.named_modules():  # trunc normal 0.02, zero bias
        if isinstance(m, torch.nn.Linear) and 'last_layer' not in name:
            assert 0.015 < float(m.weight.std()) < 0.025, name
            assert m.bias is None or (m.bias == 0).all(), name
    conv = bb.patch_embed.projection  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bound = 1 / math.sqrt(conv.weight[0].numel())
    assert float(conv.weight.abs().max()) <= bound
    assert abs(float(conv.weight.std()) - bound / math.sqrt(3)) < 0.1 * bound
    for head in model.student.aux_heads.values():
        for m in head.modules():
            if isinstance(m, torch.nn.Conv2d):  # the depthwise 7x7: PyTorch's default
                b = 1 / math.sqrt(m.weight[0].numel())
                assert float(m.weight.abs().max()) <= b
                assert abs(float(m.weight.std()) - b / math.sqrt(3)) < 0.1 * b


@pytest.mark.parametrize('name', sorted(n for n in RECIPES if n.startswith('hssl/')
                                        and RECIPES[n]['method'] in ('dino', 'ibot')))
def test_hssl_recipes_share_the_last_layer(name):
    """The HSSL code's HSSLHead: separate MLPs (mlp, mlp2), one last layer."""
    net = build(load(name)).student
    base, aux = net.projectors['base'], net.projectors['aux']
    assert base.last_layer is aux.last_layer
    assert base.mlp is not aux.mlp
    n_last = sum(1 for n, _ in net.named_parameters() if 'last_layer' in n)
    assert n_last == len(list(base.last_layer.parameters()))  # counted once
