"""Checkpoints written atomically: a complete file under the final name, or none.

mmengine writes a checkpoint in place (``open(path, 'wb')``): a crash, a
pre-emption or a full disk while saving leaves a truncated file under the
final name, and ``--resume auto`` (the path in ``work_dir/last_checkpoint``)
then fails on it. :func:`save_atomically` writes to a hidden temporary file
in the same folder, flushes it to disk and renames it (``os.replace``, atomic
on POSIX and Windows). :meth:`hssl.engine.HSSLRunner.save_checkpoint` saves
through it.
"""
import os
import os.path as osp
from typing import Callable

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
