"""Pre-train a model from a config (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--amp]
        [--auto-scale-lr] [--cfg-options key=value ...] [--launcher pytorch|slurm] [--verbose]
        [--check] [--debug]

The console gets one line per phase and the training log; the environment and the
resolved config go to the work dir's log file (--verbose: to the console too).

Distributed: tools/dist_train.sh (torchrun) or tools/slurm_train.sh.
A mistake ends with one line on stderr (--debug: the traceback).
"""
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

import hssl  # noqa: F401  (allow-lists mmengine checkpoint types for torch.load)
# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, existing_file, fail, run
from hssl.apis import build_runner  # noqa: I100
from hssl.engine.config_check import check_cfg_options, check_config
from hssl.registry import MODELS
from hssl.reliability.checkpoint_files import check_checkpoint_file
from hssl.reliability.resume_checks import checkpoint_candidates, nothing_to_resume


def parse_args():
    parser = ArgumentParser(description='Pre-train a model with hssl')
    parser.add_argument('config', type=existing_file, help='config file')
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
    parser.add_argument('--check', action='store_true',
                        help='check the arguments, the config and the model, train nothing, exit '
                        '(tools/dist_train.sh does this once before starting the processes)')
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(args.cfg_options, cfg)
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
        if not checkpoint_candidates(cfg.work_dir):  # no file to try: say so before building
            fail(nothing_to_resume(cfg.work_dir, []))
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
        if '://' not in args.resume:
            check_checkpoint_file(args.resume)  # exists, and is a checkpoint (before unpickling)
    if args.check:
        check_config(cfg)
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'hssl')):
            MODELS.build(cfg.model)  # the options and values of every part of the model
        print(f'{args.config}: the arguments and the config are valid')
        return
    runner = build_runner(cfg, amp=args.amp, auto_scale_lr=args.auto_scale_lr,
                          verbose=args.verbose)
    runner.train()


if __name__ == '__main__':
    run(main)
