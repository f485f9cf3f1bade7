"""tools/benchmarks/knn_speed.py: the three methods predict the same classes."""
import importlib.util
import os.path as osp

import numpy as np

from tests import REPO


def test_faiss_torch_and_sklearn_agree_on_a_small_problem(capsys):
    spec = importlib.util.spec_from_file_location(
        'knn_speed', osp.join(REPO, 'tools', 'benchmarks', 'knn_speed.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    times, preds = module.main(['--train', '600', '--test', '80', '--dim', '16', '--k', '50',
                                '--classes', '5', '--noise', '1.5'])
    assert set(times) == set(preds) == {'faiss', 'torch', 'sklearn'}
    assert np.array_equal(preds['faiss'], preds['torch'])
    assert np.array_equal(preds['faiss'], preds['sklearn'])
    # a problem where the vote matters: neither trivial nor hopeless
    out = capsys.readouterr().out
    top1 = float(out.splitlines()[2].split()[3])
    assert 30 < top1 < 100
