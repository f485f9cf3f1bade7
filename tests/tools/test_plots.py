"""Plot titles: whole at any number of bars, named after the data actually plotted."""
import importlib.util
import json
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')

from tests import REPO  # noqa: E402

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import knn_curve  # noqa: E402


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_head_search_bar_chart_title_fits_the_figure_at_three_heads():
    search_heads = _load('tools/search_heads.py', 'search_heads_tool')
    title = ('dino_vitmini8_convnext_12e_digits: discrepancy per auxiliary head (1 ep, 143 images)')
    for heads in (['convnext', 'resmlp', 'vit'], ['a'], list('abcdef')):
        fig = search_heads.bar_chart_figure([(h, 0.1 * i) for i, h in enumerate(heads)], title)
        renderer = fig.canvas.get_renderer()
        box, page = fig.axes[0].title.get_window_extent(renderer), fig.bbox
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and box.y1 <= page.y1, heads
        assert fig.axes[0].get_title().replace('\n', ' ') == title  # nothing cut
        matplotlib.pyplot.close(fig)


def test_knn_curve_title_names_the_data_given_and_no_other(tmp_path, monkeypatch):
    for run, epoch in (('base', 0), ('base', 1)):
        with open(tmp_path / f'{run}_epoch{epoch}.json', 'w') as f:
            json.dump({'top1': {'20': 30.0 + epoch}, 'top5': {}}, f)
    titles = []
    monkeypatch.setattr(knn_curve, 'plot', lambda *a: titles.append(a[-1]))
    png = str(tmp_path / 'c.png')
    knn_curve.main([str(tmp_path), '--runs', 'base', '--k', '20', '--png', png])
    knn_curve.main([str(tmp_path), '--runs', 'base', '--k', '20', '--png', png,
                    '--data', 'digits'])
    assert titles == ['k-NN top-1 of the teacher backbone',
                      'digits: k-NN top-1 of the teacher backbone']
    assert 'CIFAR' not in knn_curve.default_title()
