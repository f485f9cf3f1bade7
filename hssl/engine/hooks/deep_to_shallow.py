"""Cosine ramp of the deep-to-shallow (SDSSL) loss weight.

The intermediate-layer terms of :class:`~hssl.models.networks.HeterogeneousNetwork`
(``intermediate=dict(weight=r)``) weigh r * ramp / n each, with, at iteration
t of T (SDSSL, Jang et al. WACV 2023: the intermediate weight ramps by cosine from
0 to r):

    ramp_t = (1 - cos(pi * t / T)) / 2          (0 at the start, 1 at the end)

The ramp is a plain attribute of every network of the model (the student and
the EMA teacher's copy alike, so the two never disagree; it is neither a
parameter nor a buffer, so the EMA does not average it and checkpoints do not
hold it). It is a function of the iteration: a resumed run continues it.
"""
import math

from mmengine.hooks import Hook

from hssl.registry import HOOKS
from .utils import unwrap


def cosine_ramp(step: int, total_steps: int) -> float:
    """(1 - cos(pi * step / total)) / 2, clipped to [0, 1]."""
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return (1.0 - math.cos(math.pi * progress)) / 2.0


@HOOKS.register_module()
class DeepToShallowHook(Hook):
    """Sets ``intermediate_ramp`` of every network that has deep-to-shallow branches."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        networks = [m for m in unwrap(runner.model).modules()
                    if getattr(m, 'intermediate_branches', None)]
        if not networks:
            raise RuntimeError('DeepToShallowHook: the model has no intermediate layers; set '
                               'model.network.intermediate=dict(layers=..., weight=...)')
        ramp = cosine_ramp(runner.iter, runner.max_iters)
        for network in networks:
            network.intermediate_ramp = ramp
        runner.message_hub.update_scalar(
            'train/dts_weight', networks[0].intermediate_weight * ramp)
