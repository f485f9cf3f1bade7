"""Schedules as hooks: EMA teacher, teacher temperature, last-layer freeze."""
import math

import pytest
import torch

from hssl.engine.hooks import EMATeacherHook, FreezeLastLayerHook, TeacherTempHook


def test_momentum_schedule_is_dino_cosine():
    hook = EMATeacherHook(momentum=0.996, end_momentum=1.0)
    assert hook.momentum_at(0, 100) == pytest.approx(0.996)
    assert hook.momentum_at(50, 100) == pytest.approx(0.998)
    assert hook.momentum_at(100, 100) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='momentum'):
        EMATeacherHook(momentum=1.2)


@pytest.mark.parametrize('accumulate', [1, 2])
def test_teacher_follows_ema_only_on_optimizer_steps(accumulate, build, fake_runner, tiny_dino):
    model = build(tiny_dino())
    runner = fake_runner(model, accumulate=accumulate, max_iters=8)
    hook = EMATeacherHook(momentum=0.9, end_momentum=1.0)
    name = 'backbone.patch_embed.projection.weight'
    views = [torch.randn(2, 3, 32, 32)] * 2 + [torch.randn(2, 3, 16, 16)] * 2
    for it in range(4):
        runner.iter = it
        before_t = model.teacher.module.state_dict()[name].clone()
        runner.optim_wrapper.update_params(sum(model.loss(views, None).values()))
        student = model.student.state_dict()[name].clone()
        hook.after_train_iter(runner, it)
        after_t = model.teacher.module.state_dict()[name]
        if (it + 1) % accumulate:
            assert torch.equal(after_t, before_t)  # no optimizer step, no teacher update
            continue
        step = (it + 1) // accumulate - 1
        m = 1 - 0.1 * (1 + math.cos(math.pi * step / (8 // accumulate))) / 2
        assert torch.allclose(after_t, m * before_t + (1 - m) * student, atol=1e-7)
        assert not torch.equal(after_t, before_t)


def test_teacher_temperature_warmup_per_epoch(build, fake_runner, tiny_dino):
    hook = TeacherTempHook(warmup_temp=0.04, temp=0.07, warmup_epochs=4)
    assert [round(hook.temp_at(e), 4) for e in range(6)] == [0.04, 0.05, 0.06, 0.07, 0.07, 0.07]
    model = build(tiny_dino())
    runner = fake_runner(model, epoch=1)
    hook.before_train_iter(runner, 0)
    assert model.criteria['base'].teacher_temp == pytest.approx(0.05)


def test_last_layer_frozen_in_first_epochs_only(build, fake_runner, tiny_dino):
    model = build(tiny_dino())
    runner = fake_runner(model, epoch=0)
    hook = FreezeLastLayerHook(epochs=1)
    hook.before_train(runner)
    last = model.student.projectors['base'].last_layer.parametrizations.weight.original1
    other = model.student.projectors['base'].mlp[0].weight
    views = [torch.randn(2, 3, 32, 32)] * 2
    for epoch, frozen in ((0, True), (1, False)):
        runner.epoch = epoch
        before_last, before_other = last.detach().clone(), other.detach().clone()
        runner.optim_wrapper.update_params(sum(model.loss(views, None).values()))
        assert torch.equal(last, before_last) == frozen
        assert not torch.equal(other, before_other)
    # the weight-norm gain stays fixed at 1 (norm_last_layer)
    gain = model.student.projectors['base'].last_layer.parametrizations.weight.original0
    assert not gain.requires_grad and torch.all(gain == 1)
    hook.after_train(runner)


def test_optimizer_holds_student_parameters_only(build, tiny_dino):
    from hssl.engine import TrainableOptimWrapperConstructor
    model = build(tiny_dino())
    constructor = TrainableOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.04)),
        paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0, norm_decay_mult=0.0))
    wrapper = constructor(model)
    in_optimizer = {id(p) for g in wrapper.optimizer.param_groups for p in g['params']}
    assert not in_optimizer & {id(p) for p in model.teacher.parameters()}
    trainable = {id(p) for p in model.student.parameters() if p.requires_grad}
    assert trainable <= in_optimizer
    decay = {id(p): g['weight_decay'] for g in wrapper.optimizer.param_groups for p in g['params']}
    assert decay[id(model.student.backbone.layers[0].attn.qkv.weight)] == 0.04
    assert decay[id(model.student.backbone.layers[0].attn.qkv.bias)] == 0.0  # DINO: no decay on 1-D
