"""tools/setup_venv.sh: which torch index the install uses, and the one line saying so.

``python`` is a stand-in on PATH that logs its calls, so nothing is installed."""
import os
import subprocess

import pytest

from tests import REPO


FAKE_PYTHON = r'''#!/bin/bash
echo "$*" >> "$FAKE_LOG"
case "$1" in
  -c) case "$2" in
        *"import torch"*) [ -e "$FAKE_DIR/torch" ] && { echo 2.14.1+cpu; exit 0; }; exit 1 ;;
        *) echo /fake/prefix; exit 0 ;;
      esac ;;
  -) cat > /dev/null; exit "$FAKE_PROBE" ;;
  -m) if [[ "$*" == *--index-url* ]]; then
        [ "$FAKE_PIP_INDEX" = 0 ] && touch "$FAKE_DIR/torch"; exit "$FAKE_PIP_INDEX"
      fi; exit 0 ;;
esac
'''


def run_setup(tmp_path, extra='cpu', torch_installed=False, probe=0, pip_index=0, index=None):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'python').write_text(FAKE_PYTHON)
    (bin_dir / 'python').chmod(0o755)
    if torch_installed:
        (tmp_path / 'torch').touch()
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', VIRTUAL_ENV='/fake',
               FAKE_LOG=str(tmp_path / 'calls'), FAKE_DIR=str(tmp_path), FAKE_PROBE=str(probe),
               FAKE_PIP_INDEX=str(pip_index))
    env.pop('HSSL_TORCH_INDEX', None)
    if index is not None:
        env['HSSL_TORCH_INDEX'] = index
    proc = subprocess.run(['bash', '-c', f'set -euo pipefail; source tools/setup_venv.sh {extra}'],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / 'calls').read_text().splitlines()
    pips = [c for c in calls if c.startswith('-m pip install')]
    return [line for line in proc.stdout.splitlines() if 'torch' in line], pips


def test_cpu_quickstart_takes_torch_from_the_cpu_index(tmp_path):
    said, pips = run_setup(tmp_path)
    assert said == ['[hssl] torch 2.14.1+cpu from https://download.pytorch.org/whl/cpu '
                    "(HSSL_TORCH_INDEX; 'default' for pip's own index)"]
    assert pips[0].endswith('--index-url https://download.pytorch.org/whl/cpu '
                            'torch>=2.1,<2.15 torchvision>=0.16,<0.30')  # setup.py's bounds
    assert pips[1].endswith('-e .[cpu]')


def test_unreachable_index_falls_back_to_pips_own_and_says_so(tmp_path):
    said, pips = run_setup(tmp_path, probe=1)
    assert said == ['[hssl] torch: https://download.pytorch.org/whl/cpu (HSSL_TORCH_INDEX) '
                    "not reachable; pip's own index instead"]
    assert len(pips) == 1 and pips[0].endswith('-e .[cpu]')


def test_failed_index_install_falls_back(tmp_path):
    said, pips = run_setup(tmp_path, pip_index=1)
    assert 'failed; pip\'s own index instead' in said[0] and pips[-1].endswith('-e .[cpu]')


@pytest.mark.parametrize('kw', [dict(torch_installed=True), dict(index='default'),
                                dict(extra='dev'), dict(extra='gpu')])
def test_installed_torch_default_index_and_other_extras_are_left_alone(tmp_path, kw):
    said, pips = run_setup(tmp_path, **kw)
    assert not any('--index-url' in p for p in pips) and len(pips) == 1
    if kw.get('torch_installed'):
        assert said == ['[hssl] torch 2.14.1+cpu is installed: kept (HSSL_TORCH_INDEX applies '
                        'to new environments)']


def test_an_index_url_applies_to_any_extra(tmp_path):
    _, pips = run_setup(tmp_path, extra='dev', index='https://example.org/whl/cpu')
    assert '--index-url https://example.org/whl/cpu' in pips[0]
