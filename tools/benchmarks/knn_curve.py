"""k-NN top-1 against pre-training epoch: a markdown table and a PNG plot.

    python tools/benchmarks/knn_curve.py KNN_DIR --runs base hssl \
        [--labels "iBOT" "iBOT + HSSL"] [--k 20 200] [--png curve.png] [--data NAME] [--title T]

Reads ``KNN_DIR/<run>_epoch<E>.json`` (``tools/knn_eval.py --out``; epoch 0
is the random initialisation) and prints, per epoch, top-1 of every run at
every k and the difference of each later run to the first. Written by
``cifar10_study.sh``.
"""
import glob
import json
import os.path as osp
import re

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from hssl.utils.cli import ArgumentParser, existing_dir, positive_int, run


def load_curve(knn_dir: str, run: str) -> dict:
    """{epoch: {k (str): top-1 %}} of one run."""
    curve = {}
    for path in glob.glob(osp.join(knn_dir, f'{run}_epoch*.json')):
        m = re.fullmatch(rf'{re.escape(run)}_epoch(\d+)\.json', osp.basename(path))
        if m:
            with open(path) as f:
                curve[int(m.group(1))] = json.load(f)['top1']
    if not curve:
        raise FileNotFoundError(f'knn_curve: no {run}_epoch<E>.json in {knn_dir!r}')
    return dict(sorted(curve.items()))


def table(curves: dict, labels: list, ks: list) -> str:
    runs = list(curves)
    head = ['epoch'] + [f'{lab} k={k}' for k in ks for lab in labels]
    head += [f'diff k={k}' for k in ks for _ in runs[1:]]
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---:|' * len(head)]
    for e in sorted(set().union(*curves.values())):
        cells = [str(e)]
        for k in ks:
            cells += [_fmt(curves[r].get(e, {}).get(str(k))) for r in runs]
        for k in ks:
            first = curves[runs[0]].get(e, {}).get(str(k))
            for r in runs[1:]:
                other = curves[r].get(e, {}).get(str(k))
                cells.append('' if first is None or other is None else f'{other - first:+.2f}')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def _fmt(v):
    return '' if v is None else f'{v:.2f}'


def default_title(data=None) -> str:
    return f'{data}: ' * bool(data) + 'k-NN top-1 of the teacher backbone'


def plot(curves: dict, labels: list, ks: list, png: str, title: str):
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for i, ((run, curve), lab) in enumerate(zip(curves.items(), labels)):
        for k, style in zip(ks, ['-o', '--s', ':^', '-.v']):  # colour per run, line per k
            xs = [e for e in curve if str(k) in curve[e]]
            ax.plot(xs, [curve[e][str(k)] for e in xs], style, color=f'C{i}',
                    label=f'{lab}, k={k}')
    ax.set_xlabel('pre-training epoch (0 = random init)')
    ax.set_ylabel('k-NN top-1 (%)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def main(argv=None):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('knn_dir', type=existing_dir)
    p.add_argument('--runs', nargs='+', required=True)
    p.add_argument('--labels', nargs='+')
    p.add_argument('--k', nargs='+', type=positive_int, default=[20, 200])
    p.add_argument('--png')
    p.add_argument('--data', help='name of the data set, for the title, e.g. "CIFAR-10 (JPEG q75)"')
    p.add_argument('--title', help='the plot\'s title (default: k-NN top-1 of the teacher '
                   'backbone, on --data when given)')
    args = p.parse_args(argv)
    labels = args.labels or args.runs
    if len(labels) != len(args.runs):
        p.error(f'--labels gives {len(labels)} names for {len(args.runs)} --runs')
    curves = {r: load_curve(args.knn_dir, r) for r in args.runs}
    print(table(curves, labels, args.k))
    if args.png:
        plot(curves, labels, args.k, args.png, args.title or default_title(args.data))
        print(f'\nplot: {args.png}')


if __name__ == '__main__':
    run(main)
