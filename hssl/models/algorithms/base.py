"""Base class of hssl's self-supervised algorithms.

An algorithm holds a student :class:`HeterogeneousNetwork` and, for
teacher-student methods, an EMA copy of it (``self.teacher``, an mmengine
``ExponentialMovingAverage``: a submodule, so it is saved in checkpoints).
The teacher's momentum follows :class:`~hssl.engine.hooks.EMATeacherHook`.
Subclasses implement :meth:`loss` only, over :meth:`loss_terms` (the
network's pairs as weighted terms, at the current training progress).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, ExponentialMovingAverage
from torch import Tensor, nn

from hssl.models.networks import LossTerms
from hssl.registry import MODELS


def training_progress() -> Optional[Tuple[int, int]]:
    """(iteration, total iterations) of the running training, None outside one."""
    hub = MessageHub.get_current_instance()
    step, total = hub.get_info('iter'), hub.get_info('max_iters')
    return None if step is None or total is None else (step, total)


def disable_stochastic_layers(module: nn.Module) -> None:
    """Zero every drop-path and dropout probability in ``module``."""
    for m in module.modules():
        if hasattr(m, 'drop_prob'):  # timm's and mmcv's DropPath
            m.drop_prob = 0.0
        elif isinstance(m, nn.Dropout):
            m.p = 0.0


class SelfSupervisedAlgorithm(BaseModel):
    """Args:
        network: config of the student :class:`HeterogeneousNetwork`.
        data_preprocessor: e.g. mmpretrain's ``SelfSupDataPreprocessor``.

    Class attribute ``with_teacher``: keep an EMA teacher of the student.
    """
    with_teacher = True

    def __init__(self, network: dict, data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(network)
        if self.with_teacher:
            # momentum is set every step by EMATeacherHook (mmengine's convention:
            # the weight of the new value, i.e. 1 - the teacher momentum).
            self.teacher = ExponentialMovingAverage(self.student, momentum=0.004)
            # mmengine copies the source on the first update (steps == 0); the
            # teacher already is that copy, so every update is an EMA step.
            self.teacher.steps.fill_(1)
            disable_stochastic_layers(self.teacher)

    def init_weights(self):
        super().init_weights()
        if self.with_teacher:  # the teacher starts as a copy of the initialised student
            self.teacher.module.load_state_dict(self.student.state_dict())

    def loss_terms(self) -> LossTerms:
        """The student network's loss terms at the current training progress
        (read from the runner's message hub, as mmpretrain's ``CosineEMA``)."""
        return self.student.loss_terms(progress=training_progress())

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            losses = self.loss(inputs, data_samples)
            dts = self.student.deep_to_shallow
            if dts is not None:  # logged, not optimised (no "loss" in the name)
                losses['dts_weight'] = torch.tensor(dts.weight_at(training_progress()))
            return losses
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise RuntimeError(f'{type(self).__name__}: invalid mode "{mode}"; use "loss" or "tensor"')

    @property
    def inference_network(self):
        """The network whose backbone is kept: the teacher where there is one."""
        return self.teacher.module if self.with_teacher else self.student

    @torch.no_grad()
    def extract_feat(self, inputs, use_teacher: bool = True) -> Tensor:
        """Backbone cls features (the k-NN features of DINO / iBOT)."""
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        network = self.inference_network if use_teacher else self.student
        return network.backbone(inputs).cls

    def loss(self, inputs: List[Tensor], data_samples) -> Dict[str, Tensor]:
        raise NotImplementedError
