"""Unreadable images: skipped during training, counted, and an error past a limit.

A folder of a million images holds a few broken ones (truncated downloads,
files that are not images). The image loader
(:class:`~hssl.datasets.transforms.LoadImage`) raises :class:`ImageLoadError`
for them, naming the file. :class:`SkipBadSamples` (mixed into
:class:`~hssl.datasets.ImageFolder`) turns that error into a skipped sample:
a warning names the file and the reason, the data set then draws another
sample in its place (mmengine's ``BaseDataset`` retry), and the epoch goes
on. More than ``max_bad_samples`` distinct bad files is an error: a folder
that is mostly broken is a mistake, not noise.

Bad files are marked in a shared-memory flag per sample (a torch tensor:
shared with DataLoader workers, forked or spawned), so each file is reported
once and not read again, and the count is of distinct files across the
worker processes of a rank. In test mode (evaluation) nothing is skipped:
a replaced sample would pair an image with another image's label.

:class:`BadSampleCountHook` puts the count in the log: after every iteration
this rank's count as ``bad_samples`` once it is above 0, and at the end of
each epoch the count summed over ranks as a line.
"""
from typing import Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log

from hssl.registry import HOOKS


class ImageLoadError(OSError):
    """An image file exists but could not be read or decoded."""


class SkipBadSamples:
    """Mixin for an mmengine ``BaseDataset``; set ``max_bad_samples`` before its ``__init__``.

    ``max_bad_samples``: distinct unreadable files tolerated per process
    group (rank); ``0`` fails on the first, ``None`` never fails.
    """
    max_bad_samples: Optional[int] = 100
    _bad_flags: Optional[torch.Tensor] = None

    def full_init(self):
        super().full_init()
        if self._bad_flags is None:  # before DataLoader workers start: shared with them
            self._bad_flags = torch.zeros(len(self), dtype=torch.bool).share_memory_()

    @property
    def num_bad_samples(self) -> int:
        """Distinct unreadable files met so far (by this process and its workers)."""
        return 0 if self._bad_flags is None else int(self._bad_flags.sum())

    def prepare_data(self, idx):
        if self.test_mode or self.max_bad_samples == 0:
            return super().prepare_data(idx)
        if self._bad_flags is not None and self._bad_flags[idx]:
            return None  # known bad: BaseDataset draws another sample
        try:
            return super().prepare_data(idx)
        except ImageLoadError as error:
            if self._bad_flags is not None:
                self._bad_flags[idx] = True
            count = self.num_bad_samples
            if self.max_bad_samples is not None and count > self.max_bad_samples:
                raise RuntimeError(
                    f'{type(self).__name__}: {count} unreadable images, more than '
                    f'max_bad_samples={self.max_bad_samples}; the last: {error}. Fix or remove '
                    'the files, or raise max_bad_samples in the dataset config.') from error
            print_log(f'skipping an unreadable image ({count} so far): {error}',
                      logger='current', level=30)
            return None


@HOOKS.register_module()
class BadSampleCountHook(Hook):
    """Logs the unreadable images the training data set skipped (``num_bad_samples``).

    Data sets without the attribute are left alone.
    """
    priority = 'BELOW_NORMAL'  # before the logger (BELOW_NORMAL, registered later) prints

    @staticmethod
    def _count(runner) -> int:
        return int(getattr(runner.train_dataloader.dataset, 'num_bad_samples', 0))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        count = self._count(runner)
        if count:
            runner.message_hub.update_scalar('train/bad_samples', count)

    def after_train_epoch(self, runner):
        total = torch.tensor([self._count(runner)], dtype=torch.float64)
        all_reduce(total)  # a no-op outside distributed runs
        if total.item():
            runner.logger.warning(f'epoch {runner.epoch + 1}: {int(total.item())} unreadable '
                                  'images skipped so far (summed over ranks)')
