"""tools/benchmarks/gpu_check.sh --cpu-smoke: every step at toy size on the CPU,
one table with a row per step and no failure."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests import REPO


def _smoke(tmp_path, *steps):
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    cmd = ['bash', osp.join(REPO, 'tools', 'benchmarks', 'gpu_check.sh'), '--cpu-smoke',
           '--out', str(tmp_path)] + (['--steps', *steps] if steps else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = (tmp_path / 'gpu_check.md').read_text()
    rows = [line for line in table.splitlines() if line.startswith('| ') and '---' not in line][1:]
    assert not any('FAILED' in r for r in rows), table
    return rows


def test_gpu_check_cpu_smoke_data_knn_train(tmp_path):
    rows = _smoke(tmp_path, 'data', 'knn', 'train')
    assert [r.split('|')[1].strip().split()[0] for r in rows] == ['data', 'k-NN,', 'CIFAR-10']
    assert 'samples/s' in rows[0] and 'ms per batch' in rows[0]
    assert 'finite' in rows[2] and 'NOT finite' not in rows[2]


@pytest.mark.slow
def test_gpu_check_cpu_smoke_all_steps(tmp_path):
    rows = _smoke(tmp_path)
    assert len(rows) == 5
    assert 'of the bound' in rows[0] and 'time x' in rows[1]
