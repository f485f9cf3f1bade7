"""Command-line plumbing shared by every script under ``tools/``.

A user's mistake (a bad path, a bad value, an unknown option, a file that is
not what it should be) ends a tool with one line on stderr,
``<tool>: error: <what is wrong>``, and a non-zero exit status (2 for the
command line itself, 1 for everything found later), without a traceback.
``--debug`` (every tool has it) or ``HSSL_DEBUG=1`` shows the traceback.
Errors that are not a user's mistake (a bug: ``AttributeError``,
``IndexError``, ...) always show it. See docs/reliability.md.

* :class:`ArgumentParser`: argparse with ``--debug``, one-line errors and
  "Did you mean ...?" for a misspelt option or choice;
* argument types that check ranges where they are parsed:
  :func:`positive_int`, :func:`non_negative_int`, :func:`positive_float`,
  :func:`fraction`, :func:`existing_file`, :func:`existing_dir`;
* :func:`run`: calls a tool's ``main`` and turns user errors into one line.
"""
import argparse
import difflib
import os
import os.path as osp
import pickle
import re
import sys
import warnings
from typing import Callable, Optional

DEBUG_ENV = 'HSSL_DEBUG'

# mmcv-lite (mmpretrain's dependency) warns on every import that it has no
# compiled deformable attention; hssl never uses it, and the warning would be
# the only line on stderr besides an error.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')

# What a user can cause: a wrong path or file, a wrong value or key, a file
# of the wrong kind, a refused checkpoint, a model that does not fit it.
# (SyntaxError and ImportError: a config file that does not parse, or its
# custom_imports.)
USER_ERRORS = (OSError, ValueError, KeyError, TypeError, RuntimeError, pickle.UnpicklingError,
               EOFError, SyntaxError, ImportError)

# mmengine's registry re-raises a build error as "class `X` in path/x.py: <message>".
_REGISTRY_PREFIX = re.compile(r'^(?:class `\w+` in [^:]+: )+')


def debug_requested(argv=None) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get(DEBUG_ENV, '') not in ('', '0')


def error_message(err: BaseException) -> str:
    """The message of ``err`` as a user should read it: no repr quotes, no
    registry prefixes, the original error of a DataLoader worker, ``OSError``
    with its file."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f'{err.strerror}: {err.filename}'
    text = err.args[0] if len(err.args) == 1 and isinstance(err.args[0], str) else str(err)
    if 'Original Traceback (most recent call last)' in text:
        # an error in a DataLoader worker, re-raised in the main process with the
        # worker's traceback in its text: its last line is the error itself
        last = [line for line in text.splitlines() if line.strip()][-1]
        text = re.sub(r'^[\w.]+(Error|Exception): ', '', last)
    text = _REGISTRY_PREFIX.sub('', text.strip())
    return text or type(err).__name__


def fail(message: str, prog: Optional[str] = None, status: int = 1):
    """Print ``prog: error: message`` on stderr and exit with ``status``.

    With status 1 the line is the :class:`SystemExit`'s message (Python
    prints it), so that a caller of a tool's ``main`` in-process sees it too.
    """
    prog = prog or osp.basename(sys.argv[0])
    line = f'{prog}: error: {message}'
    if status == 1:
        sys.exit(line)
    sys.stderr.write(line + '\n')
    sys.exit(status)


def run(main: Callable, *args, prog: Optional[str] = None, **kwargs):
    """``main(*args, **kwargs)``; a user error becomes one line and exit status 1."""
    try:
        return main(*args, **kwargs)
    except USER_ERRORS as err:
        if debug_requested():
            raise
        fail(error_message(err), prog)
    except KeyboardInterrupt:
        if debug_requested():
            raise
        fail('interrupted', prog, 130)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with ``--debug``, one-line errors and "Did you mean" hints."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('epilog', f'A mistake ends with one line on stderr; --debug or '
                          f'{DEBUG_ENV}=1 shows the traceback.')
        super().__init__(*args, **kwargs)
        self.add_argument('--debug', action='store_true',
                          help='show the traceback of an error (also: environment variable '
                          f'{DEBUG_ENV}=1)')

    def _option_names(self):
        return [s for a in self._actions for s in a.option_strings if s.startswith('--')]

    def error(self, message: str):
        match = re.match(r'unrecognized arguments: (.*)', message)
        if match:
            hints = []
            for arg in match.group(1).split():
                close = difflib.get_close_matches(arg.split('=')[0], self._option_names(), n=1)
                if arg.startswith('-') and close:
                    hints.append((arg, close[0]))
            if len(hints) == 1:
                message += f'. Did you mean {hints[0][1]}?'
            elif hints:
                message += '. Did you mean ' + ', '.join(f'{c} for {a}' for a, c in hints) + '?'
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2)) or match.group(2).split(', ')
            close = difflib.get_close_matches(match.group(1), choices, n=1)
            if close:
                message += f'. Did you mean {close[0]!r}?'
        fail(f'{message} (see {self.prog} --help)', self.prog, 2)


def _number(kind: Callable, check: Callable, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not {what}') from None
        if not check(value):
            raise argparse.ArgumentTypeError(f'{text} is not {what}')
        return value
    parse.__name__ = what  # argparse names the type in its message
    return parse


positive_int = _number(int, lambda v: v >= 1, 'an integer >= 1')
non_negative_int = _number(int, lambda v: v >= 0, 'an integer >= 0')
positive_float = _number(float, lambda v: v > 0, 'a number > 0')
fraction = _number(float, lambda v: 0 < v <= 1, 'a fraction in (0, 1]')


def existing_file(text: str) -> str:
    """A path to a file that exists (relative to the current directory)."""
    if not osp.exists(text):
        raise argparse.ArgumentTypeError(f'{text} does not exist (looked in {os.getcwd()})'
                                         if not osp.isabs(text) else f'{text} does not exist')
    if osp.isdir(text):
        raise argparse.ArgumentTypeError(f'{text} is a directory, not a file')
    return text


def existing_dir(text: str) -> str:
    """A path to a directory that exists (relative to the current directory)."""
    if not osp.isdir(text):
        what = 'is a file, not a directory' if osp.exists(text) else 'does not exist'
        where = '' if osp.isabs(text) or osp.exists(text) else f' (looked in {os.getcwd()})'
        raise argparse.ArgumentTypeError(f'{text} {what}{where}')
    return text
