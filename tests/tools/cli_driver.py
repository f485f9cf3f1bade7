"""Run several command lines of tools/ in one interpreter, each as ``python TOOL ARGS`` would.

    python tests/tools/cli_driver.py CASES.json RESULTS.json

CASES.json: a list of ``{"tool": path, "args": [...], "cwd": dir, "env": {...}}``.
Each case runs the tool as ``__main__`` (``runpy``) with its own ``sys.argv``,
working directory, environment and stderr; RESULTS.json gets ``{"status",
"stderr"}`` per case, with the exit status and stderr that Python would give
(``SystemExit`` handling, a traceback for an uncaught exception). Importing
torch, mmengine and hssl costs seconds; here it is paid once for all cases.
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback


def exit_status(code, stderr) -> int:
    """What the interpreter does with ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    stderr.write(f'{code}\n')
    return 1


def run_case(case: dict) -> dict:
    saved_argv, saved_path, saved_cwd = sys.argv, list(sys.path), os.getcwd()
    saved_env = dict(os.environ)
    stderr = io.StringIO()
    try:
        os.chdir(case.get('cwd', saved_cwd))
        os.environ.update(case.get('env', {}))
        sys.argv = [case['tool'], *case['args']]
        sys.path.insert(0, os.path.dirname(os.path.abspath(case['tool'])))
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                runpy.run_path(case['tool'], run_name='__main__')
                status = 0
            except SystemExit as done:
                status = exit_status(done.code, stderr)
            except BaseException:  # noqa: BLE001 - what the interpreter prints and returns
                traceback.print_exc(file=stderr)
                status = 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return dict(status=status, stderr=stderr.getvalue())


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    results = [run_case(case) for case in cases]
    with open(sys.argv[2], 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
