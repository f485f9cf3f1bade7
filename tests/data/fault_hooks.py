"""Fault-injection hooks for tests/engine/test_reliability.py (imported by its configs)."""
import os
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from hssl.utils.model_wrapper import unwrap
from hssl.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL this process before iteration ``$HSSL_KILL_AT_ITER`` (on ``$HSSL_KILL_RANK``, default 0).

    A pre-emption: no exception, no cleanup, no checkpoint of that iteration.
    """
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        at = int(os.environ.get('HSSL_KILL_AT_ITER', -1))
        if runner.iter == at and get_rank() == int(os.environ.get('HSSL_KILL_RANK', 0)):
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class DumpFinalWeightsHook(Hook):
    """Write the final state dict (weights, EMA teacher, centres) as ``final_rank<r>.pth``."""

    def after_train(self, runner):
        state = {k: v.detach().cpu() for k, v in unwrap(runner.model).state_dict().items()}
        torch.save(state, os.path.join(runner.work_dir, f'final_rank{get_rank()}.pth'))
