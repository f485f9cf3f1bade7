"""EMA teacher update with DINO's cosine momentum schedule.

Teacher momentum at optimizer step k of K (DINO's ``cosine_scheduler``):
    m_k = m_end - (m_end - m_0) * (1 + cos(pi * k / K)) / 2
and teacher <- m_k * teacher + (1 - m_k) * student. The teacher moves only on
iterations where the optimizer steps, so gradient accumulation is handled;
k is derived from the iteration count, so a resumed run continues the
schedule exactly (nothing to save).
"""
import math

from mmengine.hooks import Hook

from hssl.registry import HOOKS
from .nonfinite import step_skipped
from .utils import unwrap


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
        model.teacher.update_parameters(model.student)
        runner.message_hub.update_scalar('train/teacher_momentum', momentum)
