"""Count the unreadable images the training data set skipped, in the log.

Reads ``num_bad_samples`` of the training data set (see
:mod:`hssl.datasets.bad_samples`): after every iteration this rank's count
goes to the log as ``bad_samples`` once it is above 0; at the end of each
epoch the count summed over ranks is logged as a line. Data sets without the
attribute are left alone.
"""
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from hssl.registry import HOOKS


def _count(runner) -> int:
    return int(getattr(runner.train_dataloader.dataset, 'num_bad_samples', 0))


@HOOKS.register_module()
class BadSampleCountHook(Hook):
    priority = 'BELOW_NORMAL'  # before the logger (BELOW_NORMAL, registered later) prints

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        count = _count(runner)
        if count:
            runner.message_hub.update_scalar('train/bad_samples', count)

    def after_train_epoch(self, runner):
        total = torch.tensor([_count(runner)], dtype=torch.float64)
        all_reduce(total)  # a no-op outside distributed runs
        if total.item():
            runner.logger.warning(f'epoch {runner.epoch + 1}: {int(total.item())} unreadable '
                                  'images skipped so far (summed over ranks)')
