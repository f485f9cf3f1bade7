"""Teacher temperature warm-up (DINO / iBOT).

Linear from ``warmup_temp`` to ``temp`` over ``warmup_epochs`` epochs (one
value per epoch, as DINO's ``np.linspace`` schedule), then constant. It sets
``attribute`` on every module of the algorithm that has it (the loss
criteria). A function of the epoch: a resumed run gets the right value.

iBOT's patch temperature (``iBOTLoss.teacher_temp2_schedule``) stays at
``warmup_temp`` for the first ``patch_start_epoch`` epochs (its
``pred_start_epoch``: no masked image modelling yet), then follows the same
warm-up, shifted by that many epochs. It applies to the
:class:`~hssl.models.losses.MaskedPatchLoss` criteria.
"""
import numpy as np
from mmengine.hooks import Hook

from hssl.models.losses import MaskedPatchLoss
from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap


@HOOKS.register_module()
class TeacherTempHook(Hook):

    def __init__(self, warmup_temp: float = 0.04, temp: float = 0.04, warmup_epochs: int = 0,
                 patch_start_epoch: int = 0, attribute: str = 'teacher_temp'):
        if warmup_epochs < 0 or patch_start_epoch < 0:
            raise ValueError('TeacherTempHook: warmup_epochs and patch_start_epoch must be >= 0, '
                             f'got {warmup_epochs} and {patch_start_epoch}')
        self.warmup_temp = warmup_temp
        self.temp = temp
        self.warmup_epochs = warmup_epochs
        self.patch_start_epoch = patch_start_epoch
        self.attribute = attribute

    def temp_at(self, epoch: int, patch: bool = False) -> float:
        if patch:
            if epoch < self.patch_start_epoch:
                return float(self.warmup_temp)
            epoch -= self.patch_start_epoch
        if epoch < self.warmup_epochs:
            return float(np.linspace(self.warmup_temp, self.temp, self.warmup_epochs)[epoch])
        return float(self.temp)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        modules = [m for m in unwrap(runner.model).modules() if hasattr(m, self.attribute)]
        if not modules:
            raise RuntimeError(f'TeacherTempHook: no module of the model has "{self.attribute}"')
        temps = {patch: self.temp_at(runner.epoch, patch) for patch in (False, True)}
        for m in modules:
            setattr(m, self.attribute, temps[isinstance(m, MaskedPatchLoss)])
        if batch_idx == 0:
            runner.message_hub.update_scalar(f'train/{self.attribute}', temps[False])
            if any(isinstance(m, MaskedPatchLoss) for m in modules):
                runner.message_hub.update_scalar(f'train/patch_{self.attribute}', temps[True])
