"""Pre-train a model from a config (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--amp]
        [--auto-scale-lr] [--cfg-options key=value ...] [--launcher pytorch|slurm] [--verbose]

The console gets one line per phase and the training log; the environment and the
resolved config go to the work dir's log file (--verbose: to the console too).

Distributed: tools/dist_train.sh (torchrun) or tools/slurm_train.sh.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

import hssl  # noqa: F401  (allow-lists mmengine checkpoint types for torch.load)
from hssl.apis import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description='Pre-train a model with hssl')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from a checkpoint; without a value (or "auto") from the '
                        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision: bf16 where the GPU supports it, else fp16')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly with the total batch (auto_scale_lr in the config)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=10')
    parser.add_argument('--verbose', action='store_true',
                        help='print the environment, the config, the hook order and the '
                        'per-parameter lines on the console too (always in the log file)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    runner = build_runner(cfg, amp=args.amp, auto_scale_lr=args.auto_scale_lr,
                          verbose=args.verbose)
    runner.train()


if __name__ == '__main__':
    main()
