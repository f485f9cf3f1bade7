"""Crash safety: a run survives crashes, pre-emption and bad input (docs/reliability.md).

One file per mechanism:

* ``allow_list.py``: the types an mmengine checkpoint holds, allowed for
  ``torch.load(weights_only=True)`` (``import hssl`` installs them);
* ``checkpoint_files.py``: a checkpoint file is checked before it is
  unpickled and loaded with ``weights_only=True`` (:func:`safe_load`),
  mmengine's own loading included;
* ``model_mismatch.py``: a checkpoint of another model is refused with the
  keys and shapes that differ;
* ``atomic_save.py``: checkpoints are written to a temporary file and renamed;
* ``resume_checks.py``: ``--resume`` takes the newest checkpoint that loads,
  or stops; it never starts over;
* ``resumable_loop.py``: the epoch-based loop that resumes inside an epoch
  with the same data order and random numbers (``ResumableEpochBasedTrainLoop``);
* ``nonfinite_loss.py``: a step with a NaN / inf loss is skipped, too many in
  a row stop the run (``NonFiniteLossHook``);
* ``bad_samples.py``: unreadable images are skipped and counted during
  training (``SkipBadSamples``, ``BadSampleCountHook``).

:class:`~hssl.engine.HSSLRunner`, :class:`~hssl.datasets.ImageFolder` and
the hook and loop registries use these; the hooks and the loop are
registered under the same names as ever (``NonFiniteLossHook``, ...). Only
the checkpoint-file functions are imported here (``import hssl`` needs
them, and they import nothing of hssl); import the others from their module.
"""
from .allow_list import allow_mmengine_checkpoints, mmengine_safe_globals
from .checkpoint_files import (CheckpointError, check_checkpoint_file, load_checkpoint_file,
                               safe_load)

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'check_checkpoint_file',
           'load_checkpoint_file', 'mmengine_safe_globals', 'safe_load']
