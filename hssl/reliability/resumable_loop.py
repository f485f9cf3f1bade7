"""An epoch-based training loop that resumes exactly, at any iteration.

mmengine's ``EpochBasedTrainLoop`` resumes at epoch boundaries only: a
checkpoint saved inside an epoch (``CheckpointHook(by_epoch=False,
interval=N)``) sets the iteration counter, but the loop then runs the whole
epoch again, on data it has already seen, and trains past ``max_iters``.
Neither does mmengine save the random state, so the augmentations, drop path
and masks after a resume differ from those of an uninterrupted run.

:class:`ResumableEpochBasedTrainLoop` (the default of :class:`HSSLRunner`
for every epoch-based config) fixes both:

* **data order**: the sampler's order is a function of the seed and the
  epoch (mmengine's ``DefaultSampler``); on resume inside an epoch the
  batches already trained on are dropped *at the sampler* (their images are
  neither read nor augmented), so training goes on with the next batch of
  the same order;
* **random state**: right before batch ``k`` is fetched, Python's
  ``random``, NumPy's and torch's generators (CUDA included) are seeded from
  ``(seed, k, rank)``. The random numbers of iteration ``k`` (augmentations
  in the main process, masks, drop path, ...) are thus a function of ``k``
  alone, and a run resumed at ``k`` draws exactly what the uninterrupted run
  drew, with nothing to store in the checkpoint and no gathering across
  ranks.

Exact on resume (bit-identical on CPU with ``randomness=dict(seed=...,
deterministic=True)`` and ``num_workers=0``): everything above plus what
mmengine's checkpoint holds (weights, EMA teacher, loss centres and other
buffers, optimizer, param schedulers, message hub). Not exact: augmentations
drawn in DataLoader worker processes (``num_workers > 0``) after a resume
inside an epoch: workers draw from their own generators, seeded once when
they start. See docs/reliability.md.
"""
import random
from typing import Iterator

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import BatchSampler, Sampler

from hssl.registry import LOOPS


def seed_for_iteration(seed: int, iteration: int, rank: int = 0) -> int:
    """A 32-bit seed for ``(seed, iteration, rank)`` (NumPy takes < 2**32)."""
    mixed = np.random.SeedSequence([seed % 2**32, iteration, rank]).generate_state(1)
    return int(mixed[0])


def seed_all(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also every CUDA device


class SkipSampler(Sampler):
    """``sampler`` whose next pass leaves out its first :attr:`skip` indices.

    The skip applies once (the pass that resumes an epoch); later passes are
    the wrapped sampler's. Other attributes (``set_epoch``, ``seed``, ...)
    are the wrapped sampler's.
    """

    def __init__(self, sampler: Sampler, skip: int = 0):
        self.sampler = sampler
        self.skip = skip

    def __getattr__(self, name):
        if name == 'sampler':  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.sampler, name)

    def __iter__(self) -> Iterator:
        skip, self.skip = self.skip, 0
        iterator = iter(self.sampler)
        for _ in range(skip):
            next(iterator, None)
        return iterator

    def __len__(self) -> int:
        return len(self.sampler)


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes inside an epoch, exactly.

    Same arguments as mmengine's loop. See the module docstring.
    """

    def batches_done_in_epoch(self) -> int:
        """Batches of the current epoch trained before this run (0 unless resumed)."""
        done = self._iter - self._epoch * len(self.dataloader)
        if not 0 <= done <= len(self.dataloader):
            raise RuntimeError(
                f'ResumableEpochBasedTrainLoop: iteration {self._iter} is not in epoch '
                f'{self._epoch} of {len(self.dataloader)} iterations; was the checkpoint '
                'written with another batch size, data set or number of processes?')
        return done

    def _iterator(self, skip: int):
        """The data loader's iterator without its first ``skip`` batches."""
        if skip == 0:
            return iter(self.dataloader)
        batch_sampler = self.dataloader.batch_sampler
        if isinstance(batch_sampler, BatchSampler):  # mmengine's and torch's default
            # BatchSampler reads its sampler lazily, at the first batch: the skip
            # must stay in place until then, so the wrapper stays and resets itself.
            if not isinstance(batch_sampler.sampler, SkipSampler):
                batch_sampler.sampler = SkipSampler(batch_sampler.sampler)
            batch_sampler.sampler.skip = skip * batch_sampler.batch_size
            return iter(self.dataloader)
        # Another batch sampler: fetch and drop the batches (same result, slower).
        self.runner.logger.warning(f'resuming inside an epoch: loading {skip} batches to '
                                   f'skip them ({type(batch_sampler).__name__} cannot skip)')
        iterator = iter(self.dataloader)
        for i in range(skip):
            seed_all(seed_for_iteration(self.runner.seed, self._iter - skip + i, get_rank()))
            next(iterator)
        return iterator

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self.batches_done_in_epoch()
        if done:
            self.runner.logger.info(f'resuming epoch {self._epoch + 1} after its first {done} '
                                    f'of {len(self.dataloader)} iterations')
        iterator = self._iterator(done)
        for idx in range(done, len(self.dataloader)):
            seed_all(seed_for_iteration(self.runner.seed, self._iter, get_rank()))
            data_batch = next(iterator)
            self.run_iter(idx, data_batch)
        del iterator  # ends the workers of a non-persistent loader
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
