"""Log the model discrepancy D (HSSL Eq. 5) during training (Fig. 6).

Every ``interval`` epochs (or iterations with ``by_epoch=False``) and after
the last one, :func:`hssl.evaluation.compute_discrepancy` runs the teacher on
a data loader and the hook writes one scalar per auxiliary head,
``discrepancy/<head>``, to the visualizer at the current iteration: mmengine's
``LocalVisBackend`` puts it in ``<work_dir>/<timestamp>/vis_data/scalars.json``
(what ``tools/analysis/plot_discrepancy.py`` reads), ``TensorboardVisBackend``
in the event file. The values are also kept in the message hub as the runtime
info ``discrepancy`` (``{head: D}``) and printed in the text log.

They are written straight to the visualizer rather than as message-hub
scalars: the logger hook would average a scalar over its ``window_size`` past
values and only write it at its next logging iteration, so the value of the
last epoch would never be written.
"""
import copy
from typing import Optional

from mmengine.hooks import Hook

from hssl.evaluation.discrepancy import compute_discrepancy
from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap


@HOOKS.register_module()
class DiscrepancyHook(Hook):
    """Args:
        interval: compute D every ``interval`` epochs (iterations if not
            ``by_epoch``); always after the last one.
        by_epoch: count ``interval`` in epochs (default) or iterations.
        dataloader: the images to average over, a dataloader config (as
            ``train_dataloader``); None: a second loader built from the
            config's ``train_dataloader`` (its first global view).
        max_batches: at most this many batches per computation (None: all).
        temperature: tau_t instead of the current teacher temperature of each
            pair's loss.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 1, by_epoch: bool = True, dataloader: Optional[dict] = None,
                 max_batches: Optional[int] = None, temperature: Optional[float] = None):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'DiscrepancyHook: interval must be an integer >= 1, got {interval!r}')
        if max_batches is not None and max_batches < 1:
            raise ValueError(f'DiscrepancyHook: max_batches must be >= 1 or None, got {max_batches}')
        self.interval = interval
        self.by_epoch = by_epoch
        self.dataloader = dataloader
        self.max_batches = max_batches
        self.temperature = temperature
        self._loader = None

    def before_train(self, runner):
        cfg = self.dataloader
        if cfg is None:
            if runner.cfg.get('train_dataloader') is None:
                raise KeyError('DiscrepancyHook: give dataloader=..., the config has no '
                               'train_dataloader to copy')
            cfg = runner.cfg.train_dataloader
        if isinstance(cfg, dict):
            # a separate loader: iterating the training loader itself would reset its
            # persistent workers in the middle of an epoch; its own workers live only
            # while D is computed
            cfg = dict(copy.deepcopy(cfg), persistent_workers=False)
            self._loader = runner.build_dataloader(cfg, seed=runner.seed)
        else:
            self._loader = cfg

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self.by_epoch and (self.every_n_train_iters(runner, self.interval)
                                  or self.is_last_train_iter(runner)):
            self._log(runner, step=runner.iter + 1, when=f'iteration {runner.iter + 1}')

    def after_train_epoch(self, runner):
        if self.by_epoch and (self.every_n_epochs(runner, self.interval)
                              or self.is_last_train_epoch(runner)):
            self._log(runner, step=runner.iter,
                      when=f'epoch {runner.epoch + 1} (iteration {runner.iter})')

    def _log(self, runner, step: int, when: str):
        values = compute_discrepancy(unwrap(runner.model), self._loader,
                                     temperature=self.temperature, max_batches=self.max_batches)
        runner.message_hub.update_info('discrepancy', dict(values))
        runner.visualizer.add_scalars({f'discrepancy/{h}': d for h, d in values.items()},
                                      step=step)
        text = ', '.join(f'{h} {d:.4f}' for h, d in values.items())
        runner.logger.info(f'Discrepancy D (Eq. 5) after {when}: {text}')
