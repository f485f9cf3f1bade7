"""Search the auxiliary head for a base model (HSSL Sec. 3.5, Eq. 6-8).

    python tools/search_heads.py CONFIG [--heads convnext resmlp resnet poolformer swin vit]
        [--data-fraction 0.1] [--epochs N] [--depth D] [--max-batches N]
        [--work-dir DIR] [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

1. Trains CONFIG's base model with all candidate heads side by side (one
   base projector per head, loss averaged over heads: Eq. 6-7) on a random
   ``--data-fraction`` of its training set, for ``--epochs`` epochs
   (default: the config's), with a ``DiscrepancyHook`` logging D per head
   every epoch (``plot_discrepancy.py WORK_DIR`` draws it).
2. Ranks the heads by the discrepancy D (Eq. 5) between each head and the base
   model, measured with the teacher after training; picks the largest (Eq. 8).
3. Prints the ranking and writes to the work dir: ``search_result.json``,
   ``search_discrepancy.png`` (bar chart) and ``<config>_<head>.py``, a
   config to pre-train CONFIG with the chosen head.

Only ``max_epochs`` changes with ``--epochs``: schedules (warm-up, cosine,
teacher temperature) keep their config lengths; give a config made for a
short search to have them follow. Every candidate takes the ``depth`` and
``first_shortcut`` of CONFIG's own auxiliary head (or ``--depth``).

A mistake ends with one line on stderr (--debug: the traceback).
"""
import json
import os
import os.path as osp
import textwrap

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402

import hssl  # noqa: F401,E402
# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, existing_file, fraction, positive_int, run  # noqa: E402
from hssl.apis import build_runner  # noqa: E402,I100
from hssl.engine.config_check import check_cfg_options  # noqa: E402
from hssl.apis.search import HEAD_TYPES, chosen_head_config, rank_heads, search_config  # noqa: E402


def parse_args():
    p = ArgumentParser(description='Search the auxiliary head (HSSL Sec. 3.5)')
    p.add_argument('config', type=existing_file, help='the pre-training config of the base model')
    p.add_argument('--heads', nargs='+', default=list(HEAD_TYPES),
                   help=f'candidates: {" ".join(HEAD_TYPES)} or registered head types')
    p.add_argument('--data-fraction', type=fraction,
                   help='train on this random fraction of the training set (paper: 0.1)')
    p.add_argument('--epochs', type=positive_int, help='train_cfg.max_epochs of the search')
    p.add_argument('--depth', type=positive_int, help='depth of every candidate head')
    p.add_argument('--max-batches', type=positive_int,
                   help='batches per discrepancy computation (default: the whole loader)')
    p.add_argument('--seed', type=int, default=0, help='seed of the data subset')
    p.add_argument('--work-dir', help='default: work_dirs/search_<config name>')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries of the search run')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def seconds_per_iter(runner) -> float:
    """Mean training time per iteration (IterTimerHook), the first one left out."""
    buffer = runner.message_hub.log_scalars.get('train/time')
    if buffer is None:
        return float('nan')
    times = buffer.data[0]
    return float(np.mean(times[1:] if len(times) > 1 else times))


def bar_chart_figure(ranking, title):
    """The bar chart of D per head; the title wrapped to the figure's width."""
    width = max(4.0, 1.0 + 0.8 * len(ranking))
    fig, ax = plt.subplots(figsize=(width, 3.4), dpi=150)
    names = [h for h, _ in ranking]
    values = [d for _, d in ranking]
    bars = ax.bar(names, values, color=['tab:red'] + ['tab:blue'] * (len(ranking) - 1))
    ax.bar_label(bars, fmt='%.3f', fontsize=7)
    ax.set_ylabel('discrepancy D (Eq. 5)')
    # about 13 characters of 8 pt text per inch of figure
    ax.set_title(textwrap.fill(title, width=int(13 * (width - 0.6))), fontsize=8)
    fig.tight_layout()
    return fig


def bar_chart(ranking, path, title):
    fig = bar_chart_figure(ranking, title)
    fig.savefig(path)
    plt.close(fig)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(args.cfg_options, cfg)
        cfg.merge_from_dict(args.cfg_options)
    cfg = search_config(cfg, args.heads, args.depth, args.data_fraction, args.seed)
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or osp.join('work_dirs', f'search_{stem}')
    cfg.launcher = args.launcher
    if args.epochs is not None:
        cfg.train_cfg.max_epochs = args.epochs
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='DiscrepancyHook', interval=1, max_batches=args.max_batches)]

    runner = build_runner(cfg)
    runner.train()
    discrepancy = runner.message_hub.get_info('discrepancy')
    if not is_main_process():
        return
    ranking = rank_heads(discrepancy)
    chosen = ranking[0][0]
    head_cfg = next(h for h in cfg.model.network.auxiliary if h['name'] == chosen)
    images = len(runner.train_dataloader.dataset)

    print(f'\nAuxiliary-head search (Eq. 8) for {args.config}: {len(ranking)} heads, '
          f'{runner.epoch} epoch(s) on {images} images')
    print(f'{"rank":>4}  {"head":<12} {"D":>8}')
    for i, (head, d) in enumerate(ranking, 1):
        print(f'{i:>4}  {head:<12} {d:>8.4f}')
    config_out = osp.join(cfg.work_dir, f'{stem}_{chosen}.py')
    note = (f'{args.config} with the auxiliary head chosen by tools/search_heads.py (Eq. 8):\n'
            f'{chosen}, D = {ranking[0][1]:.4f}; ranking: '
            + ', '.join(f'{h} {d:.4f}' for h, d in ranking))
    if args.cfg_options:
        note += f'\nThe search ran with --cfg-options {args.cfg_options}: not carried over.'
    with open(config_out, 'w') as f:
        f.write(chosen_head_config(args.config, head_cfg, cfg.work_dir, note))
    result = dict(config=args.config, heads=dict(discrepancy),
                  ranking=[dict(head=h, discrepancy=d) for h, d in ranking], chosen=chosen,
                  chosen_head=head_cfg, chosen_config=config_out, epochs=runner.epoch,
                  iterations=runner.iter, images=images, data_fraction=args.data_fraction,
                  seconds_per_iter=seconds_per_iter(runner))
    with open(osp.join(cfg.work_dir, 'search_result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    bar_chart(ranking, osp.join(cfg.work_dir, 'search_discrepancy.png'),
              f'{stem}: discrepancy per auxiliary head ({runner.epoch} ep, {images} images)')
    print(f'chosen: {chosen}  ->  python tools/train.py {config_out}')
    print(f'wrote {osp.join(cfg.work_dir, "search_result.json")}, search_discrepancy.png; '
          f'{result["seconds_per_iter"]:.3f} s/iteration with {len(ranking)} heads')


if __name__ == '__main__':
    run(main)
