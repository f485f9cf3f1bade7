"""Skip unreadable images during training instead of stopping the run.

A folder of a million images holds a few broken ones (truncated downloads,
files that are not images). :class:`SkipBadSamples` (mixed into
:class:`~hssl.datasets.ImageFolder`) turns an
:class:`~hssl.datasets.transforms.loading.ImageLoadError` raised by the
pipeline into a skipped sample: a warning names the file and the reason,
the data set then draws another sample in its place (mmengine's
``BaseDataset`` retry), and the epoch goes on. More than
``max_bad_samples`` distinct bad files is an error: a folder that is mostly
broken is a mistake, not noise.

Bad files are marked in a shared-memory flag per sample (a torch tensor:
shared with DataLoader workers, forked or spawned), so each file is reported
once and not read again, and the count is of distinct files across the
worker processes of a rank. In test mode (evaluation) nothing is skipped:
a replaced sample would pair an image with another image's label.
"""
from typing import Optional

import torch
from mmengine.logging import print_log

from .transforms.loading import ImageLoadError


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
