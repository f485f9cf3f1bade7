"""iBOT's ``pred_start_epoch``: no masked image modelling before an epoch.

Before ``start_epoch`` the algorithm's ``masking`` flag is off: the student
sees its global views unmasked and the patch loss has no masked token (0),
exactly as iBOT's data set with a prediction ratio of 0. A function of the
epoch: nothing to save for resuming.
"""
from mmengine.hooks import Hook

from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap


@HOOKS.register_module()
class MaskStartHook(Hook):

    def __init__(self, start_epoch: int = 0):
        if start_epoch < 0:
            raise ValueError(f'MaskStartHook: start_epoch must be >= 0, got {start_epoch}')
        self.start_epoch = start_epoch

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = unwrap(runner.model)
        if not hasattr(model, 'masking'):
            raise RuntimeError(f'MaskStartHook: {type(model).__name__} has no masking switch')
        model.masking = runner.epoch >= self.start_epoch
