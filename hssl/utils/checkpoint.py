"""Loading mmengine checkpoints safely under ``torch.load(weights_only=True)``.

Since torch 2.6, :func:`torch.load` defaults to ``weights_only=True``: it only
rebuilds tensors, containers and an allow-list of globals, so a checkpoint
cannot run code when it is opened. mmengine 0.10.x calls ``torch.load``
without ``weights_only`` (in ``Runner.resume`` / ``load_checkpoint`` and in
``init_cfg=dict(type='Pretrained')``) and its checkpoints hold a few types that
torch does not allow by default, so loading them fails.

:func:`allow_mmengine_checkpoints` extends torch's allow-list with exactly the
globals that an mmengine checkpoint holds, found by saving real checkpoints
with ``Runner.train()`` (epoch- and iteration-based loops, param schedulers,
validation with ``save_best``, ``EMAHook``, ``OptimWrapper`` and
``AmpOptimWrapper``) and listing what ``weights_only=True`` refuses. Everything
else stays refused, and :func:`safe_load` turns such a refusal into a clear
error.

Where the extra globals come from (all inside ``checkpoint['message_hub']``):

* ``log_scalars`` maps names to :class:`~mmengine.logging.HistoryBuffer`
  objects, whose state holds two numpy arrays (``float64`` values, ``int``
  counts) and, through ``HistoryBuffer.__getstate__``, the dict of statistics
  methods ``{'min': HistoryBuffer.min, ...}``. Pickle protocol 2 (torch's
  default) writes such a method as ``getattr(HistoryBuffer, 'min')``.
* ``runtime_info['eta']`` is a numpy ``float64`` scalar.

``collections.OrderedDict`` and ``collections.Counter`` (optimizer and
``MultiStepLR`` states) are in torch's default allow-list already; the config
is stored as a string, and the ``AmpOptimWrapper``'s ``loss_scaler`` state is a
dict of Python floats and ints, so neither needs anything.
"""
import os.path as osp
import pickle
import re
import zipfile
from os import PathLike
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'check_checkpoint_file',
           'mmengine_safe_globals', 'safe_load']

# The statistics methods that ``HistoryBuffer._set_default_statistics``
# registers, i.e. those found in the state of every pickled HistoryBuffer.
_HISTORY_BUFFER_METHODS = frozenset({'min', 'max', 'current', 'mean'})


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling.

    A pickle refers to ``HistoryBuffer.min`` (a function with a dotted
    ``__qualname__``) as ``getattr(HistoryBuffer, 'min')``. Allowing the real
    ``getattr`` would let a file reach any attribute of any allowed object
    (``__globals__``, modules, ``os.system`` ...), i.e. run code. This
    function resolves only the four default HistoryBuffer statistics and
    refuses everything else.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Refused getattr({obj!r}, {name!r}) while loading a checkpoint: only '
        f'getattr(HistoryBuffer, name) for name in {sorted(_HISTORY_BUFFER_METHODS)} '
        'is allowed.')


def mmengine_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Return the globals that mmengine checkpoints need beyond torch's defaults.

    Entries are either objects (allowed under their own
    ``module.qualname``) or ``(object, 'module.name')`` pairs (allowed under
    the name the pickle uses for them).
    """
    # numpy's own pickle helpers, asked from numpy rather than imported from
    # ``numpy.core`` (numpy 1.x) or ``numpy._core`` (numpy 2.x).
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]  # ndarray -> _reconstruct
    scalar = np.float64(0.0).__reduce__()[0]  # numpy scalar -> scalar
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        # log_scalars values: the HistoryBuffer objects themselves (NEWOBJ +
        # BUILD, i.e. ``__new__`` then ``__setstate__`` with their dict).
        HistoryBuffer,
        # HistoryBuffer state: ``getattr(HistoryBuffer, 'min'|'max'|...)``,
        # answered by a restricted stand-in, never by the real getattr.
        (_history_buffer_getattr, 'builtins.getattr'),
        # HistoryBuffer._log_history / _count_history: numpy arrays are
        # pickled as _reconstruct(ndarray, (0,), b'b') + __setstate__.
        np.ndarray,
        # The array and scalar dtypes, rebuilt as ``numpy.dtype('f8', ...)``.
        np.dtype,
        # ... and then BUILD (``__setstate__``) on the dtype instance, whose
        # class is a per-dtype subclass (``numpy.dtypes.Float64DType`` in
        # numpy 2.x; ``type(np.dtype(...))`` works in 1.x and 2.x). float64:
        # ``np.array([python floats])`` (log values) and ``eta``; int64:
        # ``np.array([python ints])`` (counts), int32 for the same on Windows
        # with numpy 1.x, so that such checkpoints load too.
        type(np.dtype(np.float64)),
        type(np.dtype(np.int64)),
        type(np.dtype(np.int32)),
    ]
    # The two numpy helper functions, under both module names, so that a
    # checkpoint written with numpy 1.x (``numpy.core.multiarray``) loads under
    # numpy 2.x and vice versa: the name in the file is what is looked up.
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries.append((reconstruct, f'{module}._reconstruct'))  # arrays
        entries.append((scalar, f'{module}.scalar'))  # runtime_info['eta']
    return entries


def allow_mmengine_checkpoints() -> None:
    """Allow ``torch.load(weights_only=True)`` to load mmengine checkpoints.

    Adds :func:`mmengine_safe_globals` to torch's process-wide allow-list
    (:func:`torch.serialization.add_safe_globals`). Idempotent (and safe to
    call again after ``torch.serialization.clear_safe_globals()``); called when
    ``hssl`` is imported, which makes mmengine's resume and
    ``init_cfg=dict(type='Pretrained')`` work with torch's default
    ``weights_only=True``. Does nothing on torch < 2.4, which lacks the
    allow-list; on torch < 2.6 (weights_only=False by default) only the
    entries without an explicit name are added.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return
    entries = mmengine_safe_globals()
    if torch.__version__ < '2.6':
        # torch 2.4/2.5 know no ``(object, name)`` entries (and would fail on
        # every weights-only load if given one); they load with
        # weights_only=False by default, so mmengine works there anyway.
        entries = [entry for entry in entries if not isinstance(entry, tuple)]
    add_safe_globals(entries)  # a set union: calling again adds nothing


# How torch's weights-only unpickler (and _history_buffer_getattr) word a
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
