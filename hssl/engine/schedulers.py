"""Warm-up + cosine schedules in the closed form of the official code.

Per iteration t of N (W warm-up iterations), for each parameter group with
base value b (the optimiser's value after ``auto_scale_lr``) and final value f:

    t <  W:  s + (b - s) * t / (W - 1)   DINO / iBOT ``cosine_scheduler``:
                                         ``np.linspace(s, b, W)`` (``warmup_linspace=True``)
             s + (b - s) * t / W         MoCo v3 / MAE ``adjust_learning_rate``
                                         (``warmup_linspace=False``)
    t >= W:  f + (b - f) * (1 + cos(pi * (t - W) / (N - W))) / 2

with s = ``start_factor`` * b (0 in every official recipe). mmengine's
``LinearLR`` cannot start at 0 (its chained form multiplies from the start
value) and reaches b one step later or earlier, so hssl uses this instead.
A closed form depends on t alone: a resumed run continues exactly.
"""
import math
from typing import Optional

from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from hssl.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class WarmupCosineParamScheduler(_ParamScheduler):
    """Args:
        optimizer: the (wrapped) optimiser.
        param_name: e.g. ``'lr'`` or ``'weight_decay'``.
        eta_min: final value f, the same for every group (lr: DINO's ``min_lr``).
        eta_min_ratio: or f = ratio * b per group (weight decay 0.04 -> 0.4:
            ratio 10; a group without decay stays at 0).
        warmup: warm-up length W, in epochs when ``by_epoch`` (converted to
            iterations with ``convert_to_iter_based=True``), else iterations.
        start_factor: s / b at the first warm-up iteration.
        warmup_linspace: the warm-up rule (see above).
        begin, end: the schedule spans [begin, end); N = end - begin.
    """

    def __init__(self, optimizer, param_name: str, eta_min: Optional[float] = None,
                 eta_min_ratio: Optional[float] = None, warmup: int = 0,
                 start_factor: float = 0.0, warmup_linspace: bool = True, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False):
        if (eta_min is None) == (eta_min_ratio is None):
            raise ValueError(f'WarmupCosineParamScheduler ({param_name}): give exactly one of '
                             'eta_min and eta_min_ratio')
        if end == INF:
            raise ValueError(f'WarmupCosineParamScheduler ({param_name}): needs an end')
        if not 0 <= warmup < end - begin:
            raise ValueError(f'WarmupCosineParamScheduler ({param_name}): warmup={warmup} must '
                             f'be in [0, {end - begin}) (the schedule length)')
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        self.warmup, self.start_factor = int(warmup), start_factor
        self.warmup_linspace = warmup_linspace
        super().__init__(optimizer, param_name=param_name, begin=begin, end=end,
                         last_step=last_step, by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, warmup=0, by_epoch=True,
                              epoch_length=None, **kwargs):
        """Epochs -> iterations (``convert_to_iter_based=True``)."""
        if not by_epoch or not epoch_length:
            raise ValueError('WarmupCosineParamScheduler: convert_to_iter_based needs '
                             'by_epoch=True and a known epoch length')
        end = end if end == INF else int(end * epoch_length)
        return cls(*args, begin=int(begin * epoch_length), end=end,
                   warmup=int(warmup * epoch_length), by_epoch=False, **kwargs)

    def value_at(self, t: int, base: float) -> float:
        """The value at step t (0-based, from ``begin``) of a group whose base value is ``base``."""
        final = self.eta_min if self.eta_min_ratio is None else base * self.eta_min_ratio
        W, N = self.warmup, self.end - self.begin
        if t < W:
            start = self.start_factor * base
            span = (W - 1) if self.warmup_linspace else W
            return start + (base - start) * (t / span if span > 0 else 0.0)
        return final + 0.5 * (base - final) * (1 + math.cos(math.pi * (t - W) / (N - W)))

    def _get_value(self):
        return [self.value_at(self.last_step, base) for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(WarmupCosineParamScheduler):
    """:class:`WarmupCosineParamScheduler` of the learning rate."""

    def __init__(self, optimizer, **kwargs):
        super().__init__(optimizer, param_name='lr', **kwargs)
