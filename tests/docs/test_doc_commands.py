"""Every documented command marked runnable runs.

A fenced block in README.md or docs/**/*.md whose info string is ``bash runnable`` is run
as written with bash (``set -euo pipefail``), from a scratch copy of the repository
root (configs/, tools/, examples/ ... linked, work_dirs/ fresh), with this checkout's
``hssl`` importable and the embedded digits in a temporary data root. Such a block must
be cheap (seconds at toy size) and complete in itself. ``bash runnable slow`` marks a
longer one: run with ``-m slow``.
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from tests import REPO


FENCE = re.compile(r'^```bash runnable( slow)?[ \t]*\n(.*?)^```[ \t]*$', re.M | re.S)
LINKED = ('configs', 'tools', 'examples', 'hssl', 'tests', 'docs', 'setup.py', 'README.md')


def runnable_blocks(repo=REPO):
    """(file relative to repo, line, slow, block text) of every runnable block."""
    files = [osp.join(repo, 'README.md')] + sorted(
        glob.glob(osp.join(repo, 'docs', '**', '*.md'), recursive=True))
    blocks = []
    for path in files:
        text = open(path).read()
        for m in FENCE.finditer(text):
            line = text.count('\n', 0, m.start()) + 1
            blocks.append((osp.relpath(path, repo), line, bool(m.group(1)), m.group(2)))
    return blocks


def test_the_marker_is_found_and_means_what_the_docs_say():
    md = ('```bash runnable\necho a\n```\n\n```bash\necho b\n```\n'
          '```bash runnable slow\necho c\n```\n')
    found = [(bool(m.group(1)), m.group(2)) for m in FENCE.finditer(md)]
    assert found == [(False, 'echo a\n'), (True, 'echo c\n')]
    files = {b[0] for b in runnable_blocks()}
    assert 'docs/user_guides/analysis_tools.md' in files
    assert 'docs/advanced_guides/new_auxiliary_head.md' in files


def _params():
    for path, line, slow, block in runnable_blocks():
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(block, id=f'{path}:{line}', marks=marks)


@pytest.mark.parametrize("block", list(_params()))
def test_documented_command_runs(block, tmp_path, data_root):
    for name in LINKED:
        if osp.exists(osp.join(REPO, name)):
            os.symlink(osp.join(REPO, name), tmp_path / name)
    # `python` is this interpreter with this checkout first on its path, whatever
    # PYTHONPATH a command sets itself
    bin_dir = tmp_path / '.bin'
    bin_dir.mkdir()
    for name in ('python', 'python3'):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}" '
                           f'exec "{sys.executable}" "$@"\n')
        wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', MPLBACKEND='Agg')
    proc = subprocess.run(['bash', '-c', 'set -euo pipefail\n' + block], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f'{block}\n--- stdout:\n{proc.stdout[-3000:]}\n--- stderr:\n' \
                                 f'{proc.stderr[-3000:]}'
