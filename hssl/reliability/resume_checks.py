"""What ``--resume`` takes, and when it stops instead of starting over.

* :func:`find_resumable_checkpoint` (``--resume auto``) tries
  ``last_checkpoint``'s file first, then the other checkpoints of the work
  dir, newest first, and returns the first that loads, logging in one line
  the ones it skips and why;
* :func:`nothing_to_resume` words the error when none loads (or there is
  none): the run stops, it never starts over silently;
* :func:`check_resumable` refuses a file without the training state
  (``--resume PATH`` on a file of weights only).
"""
import glob
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from .checkpoint_files import CheckpointError, safe_load

# The names mmengine's CheckpointHook gives (filename_tmpl 'epoch_{}.pth' / 'iter_{}.pth').
CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
# What a checkpoint needs to resume from: mmengine's meta (epoch, iter, seed) and the weights.
TRAINING_KEYS = ('meta', 'state_dict')


def missing_training_keys(checkpoint) -> List[str]:
    """The keys of :data:`TRAINING_KEYS` that ``checkpoint`` lacks (all, if it is no dict)."""
    return [k for k in TRAINING_KEYS if not isinstance(checkpoint, dict) or k not in checkpoint]


def check_resumable(checkpoint, filename: str) -> None:
    """Refuse a loaded ``checkpoint`` that holds no training state to resume."""
    if missing_training_keys(checkpoint):
        raise CheckpointError(filename, 'cannot resume from it: not a training checkpoint '
                              '(no meta or state_dict; weights only? load them with load_from)')


def checkpoint_candidates(work_dir: str) -> List[str]:
    """``last_checkpoint``'s file, then the work dir's other checkpoints, newest first."""
    found = [p for p in glob.glob(osp.join(work_dir, '*.pth'))
             if CHECKPOINT_NAME.match(osp.basename(p))]
    found.sort(key=lambda p: (osp.getmtime(p), int(CHECKPOINT_NAME.match(osp.basename(p))[2])),
               reverse=True)
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            last = f.read().strip()
        if last:
            found = [last] + [p for p in found if osp.abspath(p) != osp.abspath(last)]
    return found


def load_error(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or None if it can."""
    if not osp.isfile(path):
        return 'file not found' if not osp.exists(path) else 'not a file'
    try:
        checkpoint = safe_load(path)
    except CheckpointError as e:  # checked before unpickling: what the file is not
        return e.reason or str(e)
    except Exception as e:  # noqa: BLE001 - any failure means: take the previous one
        return f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'.strip()
    missing = missing_training_keys(checkpoint)
    if missing:
        return f'not a training checkpoint (no {", ".join(missing)})'
    return None


def find_resumable_checkpoint(work_dir: str, logger: str = 'current',
                              skipped: Optional[List[Tuple[str, str]]] = None) -> Optional[str]:
    """The newest checkpoint of ``work_dir`` that loads; None if there is none.

    Checkpoints passed over are logged in one line with the one resumed from,
    and appended to ``skipped`` as ``(path, reason)`` when it is given.
    """
    passed: List[Tuple[str, str]] = []
    for path in checkpoint_candidates(work_dir):
        reason = load_error(path)
        if reason is None:
            if passed:
                print_log('--resume auto: skipped ' + '; '.join(f'{p} ({r})' for p, r in passed)
                          + f'; resuming from the older {path}', logger=logger, level=30)
            return path
        passed.append((path, reason))
        if skipped is not None:
            skipped.append((path, reason))
    return None


def nothing_to_resume(work_dir: str, skipped: List[Tuple[str, str]]) -> str:
    """The error of ``--resume auto`` when no checkpoint of ``work_dir`` loads."""
    if not skipped:
        where = (f'the work dir {work_dir} does not exist' if not osp.isdir(work_dir) else
                 f'found no last_checkpoint, epoch_*.pth or iter_*.pth in {work_dir}')
        return (f'--resume: nothing to resume: {where}. Check --work-dir (or the config name); '
                'to start a new run, leave out --resume')
    return (f'--resume: no checkpoint in {work_dir} can be resumed from: '
            + '; '.join(f'{p} ({r})' for p, r in skipped)
            + '. Pass --resume PATH to choose one, or leave out --resume to start over')
