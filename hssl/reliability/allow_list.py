"""The allow-list that lets ``torch.load(weights_only=True)`` open mmengine checkpoints.

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
else stays refused, and :func:`~hssl.reliability.checkpoint_files.safe_load`
turns such a refusal into a clear error.

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

No entry is allowed under the name of an hssl module (the one hssl function,
a restricted ``getattr``, is allowed under the name ``builtins.getattr``): a
checkpoint that loads never refers to hssl code, so moving or renaming hssl's
modules cannot break one.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = ['allow_mmengine_checkpoints', 'mmengine_safe_globals']

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
