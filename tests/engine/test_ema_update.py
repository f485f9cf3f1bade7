"""ema_update (foreach) gives exactly mmengine's ExponentialMovingAverage update."""
import copy

import torch
from mmengine.model import ExponentialMovingAverage
from torch import nn

from hssl.engine.hooks.ema_teacher import ema_update


def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))


def test_ema_update_equals_mmengines_loop():
    torch.manual_seed(0)
    student = _net()
    ref = ExponentialMovingAverage(student, momentum=0.1)
    ours = copy.deepcopy(ref)
    for step in range(4):
        with torch.no_grad():
            for p in student.parameters():
                p.add_(torch.randn_like(p))
        student.train()(torch.randn(5, 4))  # moves the BatchNorm buffers
        ref.update_parameters(student)
        ema_update(ours, student)
        for (name, a), b in zip(ref.module.state_dict().items(), ours.module.state_dict().values()):
            assert torch.equal(a, b), (step, name)
        assert int(ours.steps) == int(ref.steps) == step + 1
    # after step 0 (a copy) the teacher lags the student: a real average
    assert not torch.equal(ours.module[0].weight, student[0].weight)


def test_ema_update_follows_a_new_student_and_momentum():
    torch.manual_seed(0)
    student = _net()
    teacher = ExponentialMovingAverage(student, momentum=0.5)
    teacher.steps.fill_(1)
    other = _net()
    before = teacher.module[0].weight.detach().clone()
    ema_update(teacher, other)  # the cache is per student
    expected = before + 0.5 * (other[0].weight.detach() - before)
    assert torch.allclose(teacher.module[0].weight, expected)
    teacher.momentum = 0.25
    before = teacher.module[0].weight.detach().clone()
    ema_update(teacher, other)
    assert torch.allclose(teacher.module[0].weight, before + 0.25 * (other[0].weight.detach() - before))
