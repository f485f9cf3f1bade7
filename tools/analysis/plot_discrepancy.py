"""Plot the training dynamic of the discrepancy D (HSSL Eq. 5, Fig. 6).

    python tools/analysis/plot_discrepancy.py WORK_DIR_or_LOG_JSON [--out discrepancy.png]
        [--heads convnext resmlp] [--title TEXT]

Reads the ``discrepancy/<head>`` scalars that ``DiscrepancyHook`` writes with
mmengine's ``LocalVisBackend``: from one json-lines file, or from every
``<WORK_DIR>/<timestamp>/vis_data/*.json`` (several runs of a resumed training
are merged by iteration, the later run winning). One curve per auxiliary head,
D against the training iteration.
"""
import os.path as osp
import sys
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from hssl.utils.cli import ArgumentParser, fail, run

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from analyze_logs import log_files, read_scalars  # noqa: E402

PREFIX = 'discrepancy/'


def read_curves(files: List[str]) -> Dict[str, List[tuple]]:
    """``{head: [(iteration, D), ...]}`` sorted by iteration."""
    return {key[len(PREFIX):]: points for key, points in sorted(read_scalars(files).items())
            if key.startswith(PREFIX)}


def main():
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('log', help='a work dir, or one vis_data/*.json scalars file')
    parser.add_argument('--out', default='discrepancy.png', help='PNG to write')
    parser.add_argument('--heads', nargs='+', help='only these heads (default: all)')
    parser.add_argument('--title', default='Discrepancy between the base model and the '
                        'auxiliary head')
    args = parser.parse_args()
    files = log_files(args.log)
    curves = read_curves(files)
    if not curves:
        fail(f'no "discrepancy/<head>" scalars in {", ".join(files)}; '
             'train with a DiscrepancyHook in custom_hooks')
    if args.heads:
        missing = sorted(set(args.heads) - set(curves))
        if missing:
            fail(f'no curve for {missing}; the log has {sorted(curves)}')
        curves = {h: curves[h] for h in args.heads}

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=150)
    for head, points in curves.items():
        steps, values = zip(*points)
        ax.plot(steps, values, marker='o', markersize=3, label=head)
        print(f'{head}: {len(points)} points, D from {values[0]:.4f} (iteration {steps[0]}) to '
              f'{values[-1]:.4f} (iteration {steps[-1]}), max {max(values):.4f}')
    ax.set_xlabel('iteration')
    ax.set_ylabel('discrepancy D (Eq. 5)')
    ax.set_title(args.title, fontsize=9)
    ax.legend(title='auxiliary head', fontsize=7, title_fontsize=8, loc='center left',
              bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    run(main)
