"""Training curves from mmengine's JSON scalar logs to one PNG, several runs overlaid.

    python tools/analysis/analyze_logs.py RUN [RUN ...] [--keys loss lr ...] [--legend A B ...]
        [--out curves.png] [--title TEXT]

RUN is a work dir (every ``<timestamp>/vis_data/*.json`` below it: a resumed training's
runs are merged by iteration, the later run winning) or one such json-lines file, as
mmengine's ``LocalVisBackend`` writes them. Default keys, where the logs have them:
``loss`` and every loss term (``loss_*``), ``lr``, ``teacher_momentum``,
``teacher_temp``, the k-NN accuracies of ``KNNEvalHook`` (``knn/top1_k20`` ...) and the
discrepancies of ``DiscrepancyHook`` (``discrepancy/<head>``). One panel per key, x =
training iteration, one colour per run. A summary per run and key (first, last, min,
max) is printed.
"""
import argparse
import glob
import json
import math
import os.path as osp
import sys
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

DEFAULT_KEYS = ('loss', 'lr', 'teacher_momentum', 'teacher_temp')
DEFAULT_PREFIXES = ('loss_', 'knn/', 'discrepancy/')
NOT_SCALARS = ('step', 'epoch', 'iter')


def log_files(path: str) -> List[str]:
    """``path`` if a file, else every ``vis_data/*.json`` below the work dir ``path``,
    oldest run first."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path}: no such work dir or log file')
    files = sorted(glob.glob(osp.join(path, '**', 'vis_data', '*.json'), recursive=True))
    files = [f for f in files if osp.basename(f) != 'config.json']
    if not files:
        raise FileNotFoundError(f'{path}: no vis_data/*.json scalar logs below it')
    return files


def read_scalars(files: Sequence[str]) -> Dict[str, List[tuple]]:
    """``{key: [(iteration, value), ...]}`` sorted by iteration, from json-lines files
    (given oldest first: a later file overwrites an iteration)."""
    series: Dict[str, Dict[int, float]] = {}
    for path in files:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f'{path}, line {n}: not json ({e})') from None
                if 'step' not in row:
                    raise ValueError(f'{path}, line {n}: a row without "step"')
                for key, value in row.items():
                    if key not in NOT_SCALARS and isinstance(value, (int, float)):
                        series.setdefault(key, {})[int(row['step'])] = float(value)
    return {k: sorted(points.items()) for k, points in series.items()}


def default_keys(available: Sequence[str]) -> List[str]:
    keys = [k for k in DEFAULT_KEYS if k in available]
    for prefix in DEFAULT_PREFIXES:
        keys += sorted(k for k in available if k.startswith(prefix))
    return keys


def plot(runs: Dict[str, Dict[str, List[tuple]]], keys: Sequence[str], out: str, title: str = ''):
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), dpi=110,
                             squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for i, (name, series) in enumerate(runs.items()):
            if key in series:
                xs, ys = zip(*series[key])
                ax.plot(xs, ys, color=f'C{i}', label=name,
                        marker='o' if len(xs) < 30 else None, markersize=3)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel('iteration', fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis('off')
    axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def run_name(path: str) -> str:
    path = osp.normpath(path)
    if osp.isfile(path):  # WORK_DIR/<timestamp>/vis_data/<file>.json
        parts = path.split(osp.sep)
        return parts[-4] if len(parts) >= 4 and parts[-2] == 'vis_data' else osp.basename(path)
    return osp.basename(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', metavar='RUN', help='work dir or vis_data/*.json file')
    p.add_argument('--keys', nargs='+', help='scalars to plot (default: see above)')
    p.add_argument('--legend', nargs='+', help='a name per run (default: the work dir names)')
    p.add_argument('--out', default='curves.png', help='PNG to write (default curves.png)')
    p.add_argument('--title', default='')
    args = p.parse_args(argv)
    if args.legend and len(args.legend) != len(args.runs):
        p.error(f'--legend gives {len(args.legend)} names for {len(args.runs)} runs')
    names = args.legend or [run_name(r) for r in args.runs]
    try:
        runs = {name: read_scalars(log_files(r)) for name, r in zip(names, args.runs)}
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'analyze_logs.py: error: {e}')
    available = sorted(set().union(*runs.values()))
    keys = args.keys or default_keys(available)
    missing = [k for k in keys if not any(k in s for s in runs.values())]
    if missing or not keys:
        sys.exit(f'analyze_logs.py: error: no {missing or "default keys"} in the logs; '
                 f'they have: {" ".join(available) or "nothing"}')
    for key in keys:
        for name, series in runs.items():
            if key in series:
                ys = [v for _, v in series[key]]
                print(f'{name} {key}: {len(ys)} points, first {ys[0]:.4g}, last {ys[-1]:.4g}, '
                      f'min {min(ys):.4g}, max {max(ys):.4g}')
    plot(runs, keys, args.out, args.title)
    print(f'wrote {args.out}')
    return runs


if __name__ == '__main__':
    main()
