"""Teacher temperature warm-up (DINO / iBOT).

Linear from ``warmup_temp`` to ``temp`` over ``warmup_epochs`` epochs (one
value per epoch, as DINO's ``np.linspace`` schedule), then constant. It sets
``attribute`` on every module of the algorithm that has it (the loss
criteria). A function of the epoch: a resumed run gets the right value.
"""
import numpy as np
from mmengine.hooks import Hook

from hssl.registry import HOOKS
from .utils import unwrap


@HOOKS.register_module()
class TeacherTempHook(Hook):

    def __init__(self, warmup_temp: float = 0.04, temp: float = 0.04, warmup_epochs: int = 0,
                 attribute: str = 'teacher_temp'):
        self.warmup_temp = warmup_temp
        self.temp = temp
        self.warmup_epochs = warmup_epochs
        self.attribute = attribute

    def temp_at(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return float(np.linspace(self.warmup_temp, self.temp, self.warmup_epochs)[epoch])
        return float(self.temp)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        temp = self.temp_at(runner.epoch)
        modules = [m for m in unwrap(runner.model).modules() if hasattr(m, self.attribute)]
        if not modules:
            raise RuntimeError(f'TeacherTempHook: no module of the model has "{self.attribute}"')
        for m in modules:
            setattr(m, self.attribute, temp)
        if batch_idx == 0:
            runner.message_hub.update_scalar(f'train/{self.attribute}', temp)
