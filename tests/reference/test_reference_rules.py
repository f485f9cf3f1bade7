"""hssl's update rules against the official ones (tests/reference/official.py), fp64."""
import math

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper as MMEngineOptimWrapper
from torch import nn

from hssl.engine.hooks import EMATeacherHook, TeacherTempHook
from hssl.engine.optim_wrapper import OptimWrapper
from hssl.engine.schedulers import WarmupCosineLR, WarmupCosineParamScheduler
from tests.reference import official


def _params_with_grads(seed=0, scales=(0.01, 0.5, 2.0, 40.0)):
    g = torch.Generator().manual_seed(seed)
    params = []
    for i, s in enumerate(scales):
        p = nn.Parameter(torch.randn(3 + i, 4, generator=g, dtype=torch.float64))
        p.grad = s * torch.randn(p.shape, generator=g, dtype=torch.float64)
        params.append(p)
    return params


def test_per_tensor_clipping_is_dinos_clip_gradients():
    params = _params_with_grads()
    expected = [p.grad.clone() for p in params]
    ref = [nn.Parameter(p.detach().clone()) for p in params]
    for r, g in zip(ref, expected):
        r.grad = g
    official.clip_gradients(ref, 3.0)
    wrapper = OptimWrapper(torch.optim.SGD(params, lr=0.0),
                           clip_grad=dict(type='per_tensor', max_norm=3.0))
    wrapper.step()
    for p, r in zip(params, ref):
        torch.testing.assert_close(p.grad, r.grad, rtol=0, atol=0)
    norms = [float(p.grad.norm()) for p in params]
    assert norms[0] < 3.0 and all(abs(n - 3.0) < 1e-5 for n in norms[2:])  # small ones untouched


def test_total_norm_clipping_is_not_the_official_rule():
    """mmengine's default (one factor from the total norm) scales the small gradients too."""
    params = _params_with_grads()
    ref = [nn.Parameter(p.detach().clone()) for p in params]
    for r, p in zip(ref, params):
        r.grad = p.grad.clone()
    official.clip_gradients(ref, 3.0)
    MMEngineOptimWrapper(torch.optim.SGD(params, lr=0.0), clip_grad=dict(max_norm=3.0)).step()
    assert not torch.allclose(params[0].grad, ref[0].grad)


def test_clip_type_and_options_are_checked():
    p = [nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match='per_tensor'):
        OptimWrapper(torch.optim.SGD(p, lr=0.1), clip_grad=dict(type='per_tensr', max_norm=1.0))
    with pytest.raises(ValueError, match='max_norm'):
        OptimWrapper(torch.optim.SGD(p, lr=0.1), clip_grad=dict(type='per_tensor', norm_type=2))


def _schedule(scheduler_cls, iters, groups=((0.3, 0.04), (0.3, 0.0)), **kwargs):
    """Values of every group at each iteration of an iteration-based scheduler."""
    params = [nn.Parameter(torch.zeros(1)) for _ in groups]
    opt = torch.optim.AdamW([dict(params=[p], lr=lr, weight_decay=wd)
                             for p, (lr, wd) in zip(params, groups)])
    sched = scheduler_cls(opt, by_epoch=False, begin=0, end=iters, **kwargs)
    name = sched.param_name
    values = []
    for _ in range(iters):
        values.append([g[name] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(values)


@pytest.mark.parametrize('epochs,niter,warmup', [(10, 7, 2), (5, 3, 0), (4, 1, 1)])
def test_warmup_cosine_lr_is_cosine_scheduler(epochs, niter, warmup):
    ours = _schedule(WarmupCosineLR, epochs * niter, eta_min=1e-6, warmup=warmup * niter)
    ref = official.cosine_scheduler(0.3, 1e-6, epochs, niter, warmup_epochs=warmup)
    np.testing.assert_allclose(ours[:, 0], ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[:, 1], ref, rtol=1e-12, atol=1e-15)


def test_weight_decay_schedule_is_cosine_scheduler_and_keeps_zero_groups():
    ours = _schedule(WarmupCosineParamScheduler, 70, param_name='weight_decay', eta_min_ratio=10.0)
    ref = official.cosine_scheduler(0.04, 0.4, 10, 7)
    np.testing.assert_allclose(ours[:, 0], ref, rtol=1e-12)
    assert (ours[:, 1] == 0).all()


def test_moco_and_mae_warmup_is_adjust_learning_rate():
    epochs, niter, warmup = 6, 5, 2
    ours = _schedule(WarmupCosineLR, epochs * niter, eta_min=0.0, warmup=warmup * niter,
                     warmup_linspace=False)
    ref = [official.adjust_learning_rate(t / niter, 0.3, warmup, epochs)
           for t in range(epochs * niter)]
    np.testing.assert_allclose(ours[:, 0], ref, rtol=1e-12, atol=1e-15)


def test_mmengine_linear_warmup_was_not_the_official_start():
    """The schedule hssl shipped before: LinearLR(start_factor=1e-4) starts above 0."""
    from mmengine.optim.scheduler import LinearLR
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.3)
    LinearLR(opt, start_factor=1e-4, by_epoch=False, begin=0, end=14)
    assert opt.param_groups[0]['lr'] != official.cosine_scheduler(0.3, 0, 10, 7, 2)[0]


@pytest.mark.parametrize('start', [0, 3])
def test_teacher_temperatures_are_ibots(start):
    hook = TeacherTempHook(warmup_temp=0.04, temp=0.07, warmup_epochs=5, patch_start_epoch=start)
    cls, patch = official.teacher_temp_schedules(0.04, 0.07, 0.04, 0.07, 5, 20, start)
    np.testing.assert_allclose([hook.temp_at(e) for e in range(20)], cls, rtol=1e-15)
    np.testing.assert_allclose([hook.temp_at(e, patch=True) for e in range(20)], patch, rtol=1e-15)


def test_teacher_momentum_is_cosine_scheduler_and_moco_momentum():
    hook = EMATeacherHook(momentum=0.996, end_momentum=1.0)
    ref = official.cosine_scheduler(0.996, 1.0, 10, 7)
    np.testing.assert_allclose([hook.momentum_at(k, 70) for k in range(70)], ref, rtol=1e-14)
    moco = EMATeacherHook(momentum=0.99, end_momentum=1.0)
    np.testing.assert_allclose([moco.momentum_at(k, 70) for k in range(70)],
                               [official.adjust_moco_momentum(k / 7, 0.99, 10) for k in range(70)],
                               rtol=1e-14)


def test_dino_loss_is_official_on_random_tensors():
    from hssl.models.losses import DINOLoss
    g = torch.Generator().manual_seed(1)
    B, K, V = 3, 16, 5
    student = torch.randn(V * B, K, generator=g, dtype=torch.float64)
    teacher = torch.randn(2 * B, K, generator=g, dtype=torch.float64)
    loss = DINOLoss(K, teacher_temp=0.05).double()
    loss.center.copy_(torch.randn(1, K, generator=g, dtype=torch.float64))
    ours = loss(loss.teacher_probs(teacher), student, 2, V)
    ref = official.dino_loss(student, teacher, loss.center, V, 0.05)
    assert math.isclose(float(ours), float(ref), rel_tol=1e-13)
