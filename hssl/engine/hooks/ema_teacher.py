"""EMA teacher update with DINO's cosine momentum schedule.

Teacher momentum at optimizer step k of K (DINO's ``cosine_scheduler``):
    m_k = m_end - (m_end - m_0) * (1 + cos(pi * k / K)) / 2
and teacher <- m_k * teacher + (1 - m_k) * student. The teacher moves only on
iterations where the optimizer steps, so gradient accumulation is handled;
k is derived from the iteration count, so a resumed run continues the
schedule exactly (nothing to save).

The update itself is :func:`ema_update`: mmengine's
``ExponentialMovingAverage.update_parameters`` done with one
``torch._foreach_lerp_`` over all parameters instead of a Python loop over
them (the same numbers; one kernel launch per tensor group, not per tensor).
"""
import math

import torch
from mmengine.hooks import Hook
from mmengine.model import ExponentialMovingAverage
from torch import nn

from hssl.registry import HOOKS
from hssl.reliability.nonfinite_loss import step_skipped
from hssl.utils.model_wrapper import unwrap


def _pairs(teacher: ExponentialMovingAverage, student: nn.Module):
    """(teacher tensors, student tensors) of the floating-point parameters, and
    the buffer pairs; cached on the teacher (parameters keep their identity)."""
    cache = getattr(teacher, '_foreach_pairs', None)
    if cache is not None and cache[0] is student:
        return cache[1]
    source = student.state_dict(keep_vars=True) if teacher.update_buffers \
        else dict(student.named_parameters())
    avg, src = [], []
    for name, p in teacher.avg_parameters.items():
        if p.dtype.is_floating_point:
            avg.append(p.data)
            src.append(source[name].data)
    buffers = [] if teacher.update_buffers else \
        [(b, s) for b, s in zip(teacher.module.buffers(), student.buffers())]
    teacher._foreach_pairs = (student, (avg, src, buffers))
    return avg, src, buffers


@torch.no_grad()
def ema_update(teacher: ExponentialMovingAverage, student: nn.Module) -> None:
    """``teacher.update_parameters(student)`` for mmengine's
    ``ExponentialMovingAverage`` (``teacher.momentum`` = the weight of the new
    value), with foreach kernels: the same result, a fraction of the launches."""
    if type(teacher).avg_func is not ExponentialMovingAverage.avg_func:
        teacher.update_parameters(student)  # another averaging rule: mmengine's loop
        return
    avg, src, buffers = _pairs(teacher, student)
    if avg and avg[0].device != src[0].device:
        teacher.update_parameters(student)  # teacher on another device: mmengine moves each tensor
        return
    if teacher.steps == 0:
        torch._foreach_copy_(avg, src)
    elif teacher.steps % teacher.interval == 0:
        torch._foreach_lerp_(avg, src, teacher.momentum)
    if buffers:
        torch._foreach_copy_([b for b, _ in buffers], [s for _, s in buffers])
    teacher.steps += 1


@HOOKS.register_module()
class EMATeacherHook(Hook):
    priority = 'ABOVE_NORMAL'  # before checkpointing and logging of the same iteration

    def __init__(self, momentum: float = 0.996, end_momentum: float = 1.0):
        if not 0.0 <= momentum <= end_momentum <= 1.0:
            raise ValueError(f'EMATeacherHook: need 0 <= momentum <= end_momentum <= 1, got '
                             f'momentum={momentum}, end_momentum={end_momentum}')
        self.momentum = momentum
        self.end_momentum = end_momentum

    def momentum_at(self, step: int, total_steps: int) -> float:
        cos = math.cos(math.pi * step / max(total_steps, 1))
        return self.end_momentum - (self.end_momentum - self.momentum) * (1 + cos) / 2

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        optim_wrapper = runner.optim_wrapper
        if not optim_wrapper.should_update() or step_skipped(runner):
            return  # an accumulation-only or skipped (non-finite loss) step: the student has not moved
        accumulate = getattr(optim_wrapper, '_accumulative_counts', 1)
        step = math.ceil((runner.iter + 1) / accumulate) - 1
        total = math.ceil(runner.max_iters / accumulate)
        model = unwrap(runner.model)
        momentum = self.momentum_at(step, total)
        # mmengine's EMA momentum is the weight of the new value.
        model.teacher.momentum = 1.0 - momentum
        ema_update(model.teacher, model.student)
        runner.message_hub.update_scalar('train/teacher_momentum', momentum)
