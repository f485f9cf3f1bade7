"""Quiet consoles: the details of a run go to its log file, one line per phase to the screen.

mmengine logs, at INFO, the whole environment (~40 lines), the whole config (~250),
the hook order (~90), one line per parameter of the optimizer's paramwise options and,
where no log file exists yet, several lines per parameter of the initialisation. All of
that is useful afterwards, in the work dir's log file, and noise on a terminal.
:class:`DetailFilter` on a logger's *console* handlers drops those records there; the
log file keeps everything. ``--verbose`` (``tools/train.py``, ``tools/knn_eval.py``)
leaves the console as mmengine has it.
"""
import logging
from contextlib import contextmanager

from mmengine.logging import MMLogger

__all__ = ['DetailFilter', 'quiet_console', 'quiet_init_info']

# Records that go to the log file only (the start of their message).
DETAIL_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',   # Runner._log_env
    'Config:\n',                                  # Runner._log_env
    'Hooks will be executed in the following order',
    'paramwise_options -- ',                      # DefaultOptimWrapperConstructor
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    'Distributed training is not used, all SyncBatchNorm',
)
DETAIL_SUFFIXES = (' is skipped since its requires_grad=False',)  # frozen params, optimizer


class DetailFilter(logging.Filter):
    """Drops the records listed in :data:`DETAIL_PREFIXES` / ``DETAIL_SUFFIXES`` and
    records logged with ``extra={'detail': True}``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, 'detail', False):
            return False
        message = record.getMessage()
        return not (message.startswith(DETAIL_PREFIXES) or message.endswith(DETAIL_SUFFIXES))


def quiet_console(logger: logging.Logger) -> None:
    """Put a :class:`DetailFilter` on every console (not file) handler of ``logger``."""
    for handler in logger.handlers:
        console = isinstance(handler, logging.StreamHandler) and \
            not isinstance(handler, logging.FileHandler)
        if not console:
            continue
        if not any(isinstance(f, DetailFilter) for f in handler.filters):
            handler.addFilter(DetailFilter())


@contextmanager
def quiet_init_info(verbose: bool = False):
    """Silence mmengine's per-parameter initialisation report (``BaseModule.init_weights``
    logs several lines per parameter to the current MMLogger when it has no log file)."""
    if verbose:
        yield
        return
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
