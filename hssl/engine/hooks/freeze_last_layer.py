"""Freeze the projection heads' last layer for the first epochs (DINO).

DINO's ``cancel_gradients_last_layer``: during the first ``epochs`` epochs the
gradients of the last-layer parameters are dropped right before the optimizer
step (after clipping), so the optimizer neither updates nor decays them and
keeps no state for them. Every parameter under a module whose name ends with
``name`` is frozen: ``last_layer`` and iBOT's separate ``patch_last_layer``
alike. Implemented as an optimizer step pre-hook: it works
with DDP, AMP and gradient accumulation alike.
"""
from mmengine.hooks import Hook

from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap


@HOOKS.register_module()
class FreezeLastLayerHook(Hook):

    def __init__(self, epochs: int = 1, name: str = 'last_layer'):
        self.epochs = epochs
        self.name = name
        self._handle = None

    def before_train(self, runner):
        model = unwrap(runner.model)
        params = [p for n, p in model.named_parameters()
                  if any(part.endswith(self.name) for part in n.split('.')[:-1])]
        if not params:
            raise RuntimeError(f'FreezeLastLayerHook: the model has no parameter named "*{self.name}*"')

        def drop_grads(optimizer, args, kwargs):
            if runner.epoch < self.epochs:
                for p in params:
                    p.grad = None

        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(drop_grads)

    def after_train(self, runner):
        if self._handle is not None:
            self._handle.remove()
