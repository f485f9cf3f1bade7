"""Checkpoint files checked before they are unpickled, and loaded with ``weights_only=True``.

* :func:`check_checkpoint_file` refuses, before anything is unpickled, a
  file that is not what ``torch.save`` writes (random bytes, a truncated
  zip, an image, an npz), with a :class:`CheckpointError` naming the file;
* :func:`safe_load` then opens it with ``torch.load(weights_only=True)`` and
  the allow-list of :mod:`hssl.reliability.allow_list`; a file that would run
  code is refused with the global it names, never with advice to load it
  unsafely;
* :func:`check_local_checkpoints_first` makes mmengine's own loading
  (``Runner.resume``, ``init_cfg=dict(type='Pretrained')``) go through both.
"""
import os.path as osp
import pickle
import re
import zipfile
from os import PathLike
from typing import Any, Union

import torch

from .allow_list import allow_mmengine_checkpoints

__all__ = ['CheckpointError', 'check_checkpoint_file', 'check_local_checkpoints_first',
           'load_checkpoint_file', 'safe_load']


# How torch's weights-only unpickler (and allow_list's restricted getattr) word a
# refusal, most specific first; group 1 is the offending global or type.
_REFUSAL_PATTERNS = (
    re.compile(r'Unsupported global: GLOBAL (\S+)'),
    re.compile(r'unsupported GLOBAL (\S+) whose module'),  # blocked modules
    re.compile(r'unrecognized function (.+?)(?: which belongs|$)', re.M),
    re.compile(r"(?:object|build)[^\n]* but got (<class '[^']+'>)"),
    re.compile(r'Refused (getattr\(.+?\)) while loading'),
)


def _unpickler_reason(message: str) -> str:
    """The reason in torch's weights-only error text, without its advice to load unsafely."""
    match = re.search(r'WeightsUnpickler error: ([^\n]+)', message)
    return match.group(1).strip() if match else 'cannot be unpickled'


def _offending_global(message: str) -> Union[str, None]:
    """Extract the refused global/type from torch's weights-only error text."""
    for pattern in _REFUSAL_PATTERNS:
        match = pattern.search(message)
        if match:
            name = match.group(1)
            # torch prints builtins without their module ('exec'); restore it.
            return name if '.' in name or '(' in name or '<' in name else f'builtins.{name}'
    return None


class CheckpointError(ValueError):
    """A file that is not a loadable checkpoint: ``"<path>: <reason>"``."""

    def __init__(self, path: str, reason: Union[str, None] = None):
        super().__init__(path if reason is None else f'{path}: {reason}')
        self.path, self.reason = path, reason


# What torch.save writes first in its legacy (pre-1.6) format: the pickled magic number.
_LEGACY_MAGIC = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)


def check_checkpoint_file(path: Union[str, PathLike]) -> None:
    """Refuse, before anything is unpickled, a file that is not a torch checkpoint.

    ``torch.save`` writes a zip archive holding ``<name>/data.pkl`` (or, in
    its legacy format, starts with a pickled magic number). Anything else
    (random bytes, a truncated zip, an image, an npz) is refused with a
    :class:`CheckpointError` naming the file and what it is not.
    """
    path = str(path)
    if not osp.exists(path):
        raise FileNotFoundError(2, 'checkpoint not found', path)
    if osp.isdir(path):
        raise CheckpointError(path, 'a directory, not a checkpoint file')
    with open(path, 'rb') as f:
        head = f.read(len(_LEGACY_MAGIC))
    if not head:
        raise CheckpointError(path, 'an empty file, not a checkpoint')
    if head.startswith(_LEGACY_MAGIC):
        return
    if not head.startswith(b'PK'):
        raise CheckpointError(path, 'not a PyTorch checkpoint (neither the zip archive that '
                              'torch.save writes nor its legacy format)')
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise CheckpointError(path, 'not a complete PyTorch checkpoint (its zip archive is '
                              'truncated or damaged)') from None
    if not any(n == 'data.pkl' or n.endswith('/data.pkl') for n in names):
        raise CheckpointError(path, 'a zip archive but not a PyTorch checkpoint (no data.pkl '
                              'in it)')


def safe_load(path: Union[str, PathLike], map_location: Any = 'cpu') -> Any:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    mmengine checkpoints load once :func:`allow_mmengine_checkpoints` ran
    (``import hssl`` does it; this function calls it too).

    Args:
        path: The checkpoint file.
        map_location: Passed to :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        The loaded object (for mmengine checkpoints, a dict with ``meta``,
        ``state_dict``, ``message_hub``, ``optimizer``, ...).

    Raises:
        FileNotFoundError, CheckpointError: If the file is missing or is not a
            torch checkpoint (:func:`check_checkpoint_file`, before unpickling)
            or its pickled data is damaged.
        RuntimeError: If the file refers to a global (class or function) that
            is not allowed: the file is refused because unpickling it could
            run arbitrary code. The message names the file and the global.
    """
    allow_mmengine_checkpoints()
    if not isinstance(path, (str, PathLike)):  # a file object: torch checks it
        return torch.load(path, map_location=map_location, weights_only=True)
    check_checkpoint_file(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        offending = _offending_global(str(err))
        if offending is None:
            raise CheckpointError(str(path), 'not a readable PyTorch checkpoint (its pickled data '
                                  f'is damaged: {_unpickler_reason(str(err))})') from err
        raise RuntimeError(
            f'Refusing to load checkpoint {str(path)!r}: it refers to the '
            f'global {offending}, which is not on the allow-list of '
            'weights_only=True loading; unpickling it could run arbitrary '
            'code. If you trust this file and the type is plain data, add it '
            'with torch.serialization.add_safe_globals([...]).') from err
    except (EOFError, IndexError, RuntimeError) as err:
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, RuntimeError) and 'PytorchStreamReader' not in text:
            raise
        raise CheckpointError(str(path), 'not a readable PyTorch checkpoint (its data is '
                              f'damaged: {text})') from err


def load_checkpoint_file(filename: str, map_location: Any = 'cpu') -> Any:
    """A local checkpoint through :func:`safe_load` (checked before unpickling);
    a URL or ``open-mmlab://``-style name through mmengine's loader."""
    if '://' in str(filename):
        from mmengine.runner.checkpoint import _load_checkpoint
        return _load_checkpoint(filename, map_location=map_location)
    return safe_load(filename, map_location=map_location)


def load_from_local(filename: str, map_location: Any = None) -> Any:
    """mmengine's local loader (its name is in mmengine's log line), checked first."""
    return safe_load(osp.expanduser(filename), map_location=map_location)


def check_local_checkpoints_first() -> None:
    """Have mmengine load local checkpoint files through :func:`safe_load`.

    mmengine's own loader (``Runner.resume``, ``init_cfg=dict(type='Pretrained')``
    in linear-probing and fine-tuning configs) calls ``torch.load`` directly:
    a file that is no checkpoint fails with torch's advice to set
    ``weights_only=False``. Registered for mmengine's local scheme (the empty
    prefix), every local file is checked first (:func:`check_checkpoint_file`)
    and loaded with ``weights_only=True``; URLs keep mmengine's loaders.
    Called when ``hssl.engine`` is imported.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
