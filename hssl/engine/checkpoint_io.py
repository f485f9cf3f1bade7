"""Checkpoint files that survive crashes: atomic saving, resuming what loads.

mmengine writes a checkpoint in place (``open(path, 'wb')``): a crash, a
pre-emption or a full disk while saving leaves a truncated file under the
final name, and ``--resume auto`` (the path in ``work_dir/last_checkpoint``)
then fails on it. Here

* :func:`save_atomically` writes to a hidden temporary file in the same
  folder, flushes it to disk and renames it (``os.replace``, atomic on
  POSIX and Windows): the final name holds a complete checkpoint or nothing;
* :func:`find_resumable_checkpoint` tries ``last_checkpoint``'s file first,
  then the other checkpoints of the work dir, newest first, and returns the
  first that loads, logging in one line the ones it skips and why;
  :func:`nothing_to_resume` words the error when none loads.
"""
import glob
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Tuple

from mmengine.logging import print_log

from hssl.utils.checkpoint import CheckpointError, safe_load

# The names mmengine's CheckpointHook gives (filename_tmpl 'epoch_{}.pth' / 'iter_{}.pth').
CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
TEMP_PREFIX = '.tmp-'


def _fsync(path: str) -> None:
    flags = os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) if osp.isdir(path) else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_atomically(out_dir: str, filename: str, save: Callable[[str], None]) -> None:
    """Call ``save(name)`` with a temporary name in ``out_dir``, then rename it to ``filename``.

    Only for local folders; a remote ``out_dir`` (``s3://`` ...) is written
    directly by ``save(filename)``.
    """
    if '://' in str(out_dir):
        save(filename)
        return
    temp = f'{TEMP_PREFIX}{os.getpid()}-{filename}'
    temp_path, final_path = osp.join(out_dir, temp), osp.join(out_dir, filename)
    try:
        save(temp)
        _fsync(temp_path)
        os.replace(temp_path, final_path)
        _fsync(out_dir)
    finally:
        if osp.exists(temp_path):
            os.remove(temp_path)


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
    missing = [k for k in ('meta', 'state_dict') if not isinstance(checkpoint, dict) or k not in checkpoint]
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
