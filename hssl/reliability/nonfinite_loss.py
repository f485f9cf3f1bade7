"""Skip training steps whose loss is not finite; stop after too many in a row.

One NaN or inf in a loss (an overflow, a bad image, a spike at a high
learning rate) would otherwise reach every weight through the optimizer step,
the EMA teacher and the running buffers (DINO's centre, batch-norm
statistics), and the run would go on producing NaN for days.

:class:`NonFiniteLossHook` guards the optimizer wrapper's ``update_params``
(any ``OptimWrapper``, ``AmpOptimWrapper`` included, so any algorithm):

* the summed loss is checked before the backward pass; in distributed runs
  all ranks agree (one all-reduce of a flag), so they skip together;
* a non-finite loss is not back-propagated and the optimizer does not step;
  the model's buffers are put back as they were before the iteration's
  forward pass (e.g. the centre that the teacher's NaN output would have
  moved); the step is marked skipped (:func:`step_skipped`), so
  :class:`EMATeacherHook` leaves the teacher alone;
* skipped steps are counted (``skipped_steps`` in the log); after
  ``max_consecutive`` skipped steps in a row the run stops with an error
  naming the iteration and every loss term. Checkpoints written meanwhile
  hold the weights of the last good step: nothing was updated.

With gradient accumulation a bad micro-batch is left out of its window; if it
is the window's last one, the window's step is skipped and its gradients
dropped.
"""
import math

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap

SKIPPED_KEY = 'skipped_step'


def step_skipped(runner) -> bool:
    """Whether the optimizer step of the current iteration was skipped."""
    get_info = getattr(runner.message_hub, 'get_info', None)  # absent in light test doubles
    return bool(get_info(SKIPPED_KEY, False)) if get_info is not None else False


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Args:
        max_consecutive: stop after this many consecutive non-finite losses.
        restore_buffers: put the model's buffers back after a skipped step.
    """
    priority = 'VERY_HIGH'  # stop before anything else runs after the last bad step

    def __init__(self, max_consecutive: int = 10, restore_buffers: bool = True):
        if isinstance(max_consecutive, bool) or not isinstance(max_consecutive, int) \
                or max_consecutive < 1:
            raise ValueError(f'NonFiniteLossHook: max_consecutive must be an integer >= 1, '
                             f'got {max_consecutive!r}')
        self.max_consecutive = max_consecutive
        self.restore_buffers = restore_buffers
        self.consecutive = 0
        self.total = 0
        self._buffers = None
        self._skipped = False

    def before_train(self, runner):
        wrapper = runner.optim_wrapper
        update_params = wrapper.update_params

        def guarded_update_params(loss, *args, **kwargs):
            finite = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
            all_reduce(finite, op='min')  # a no-op outside distributed runs
            self._skipped = not bool(finite.item())
            if not self._skipped:
                return update_params(loss, *args, **kwargs)
            wrapper._inner_count += 1  # as a backward would: keeps accumulation windows aligned
            if wrapper.should_update():
                wrapper.zero_grad()
            if self._buffers is not None:
                with torch.no_grad():
                    for buffer, saved in zip(unwrap(runner.model).buffers(), self._buffers):
                        buffer.copy_(saved)

        wrapper.update_params = guarded_update_params

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._skipped = False
        runner.message_hub.update_info(SKIPPED_KEY, False)
        if self.restore_buffers:
            self._buffers = [b.detach().clone() for b in unwrap(runner.model).buffers()]

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._buffers = None
        runner.message_hub.update_info(SKIPPED_KEY, self._skipped)
        if not self._skipped:
            self.consecutive = 0
            if self.total:
                runner.message_hub.update_scalar('train/skipped_steps', self.total)
            return
        self.consecutive += 1
        self.total += 1
        runner.message_hub.update_scalar('train/skipped_steps', self.total)
        terms = ', '.join(f'{k}={_value(v)}' for k, v in (outputs or {}).items())
        where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch {batch_idx + 1})'
        if self.consecutive < self.max_consecutive:
            runner.logger.warning(f'non-finite loss at {where}: {terms}; step skipped '
                                  f'({self.consecutive} in a row, {self.total} in all)')
            return
        last = runner.message_hub.get_info('last_ckpt', None)
        kept = (f'the last checkpoint, {last}, holds the weights of the last good step'
                if last else 'no checkpoint was written yet')
        raise RuntimeError(
            f'NonFiniteLossHook: {self.consecutive} consecutive iterations with a non-finite '
            f'loss, the last at {where}: {terms}. No weight was updated by them; {kept}. '
            'Check the data and the learning rate (or mixed precision), or raise '
            'max_consecutive.')


def _value(v) -> str:
    v = float(v.detach().float().mean()) if isinstance(v, torch.Tensor) else float(v)
    return str(v) if not math.isfinite(v) else f'{v:.4g}'
