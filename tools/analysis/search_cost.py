"""Training time of the head search: N heads side by side against one head (Sec. 3.5).

    python tools/analysis/search_cost.py CONFIG [--heads convnext resmlp resnet poolformer swin vit]
        [--iters 20] [--warmup 3] [--batches 4] [--depth D] [--batch-size B] [--threads T]
        [--device cpu|cuda] [--cfg-options k=v ...]

Builds two models from CONFIG in one process, one with all ``--heads`` side by
side (what ``tools/search_heads.py`` trains) and one with the first head only,
and times full training steps of both on the same pre-loaded batches of the
config's training loader: forward, loss, backward, optimizer step (the
config's optimizer wrapper) and the EMA teacher update. The two models take
turns every iteration, so a change of machine load hits both alike. Data
loading is left out (it is the same for both). Prints seconds per iteration
(median and minimum over ``--iters`` after ``--warmup``; the minimum is
the least disturbed by other load) and their ratios; the paper
measures about 1.4x for six heads on GPUs.
"""
import copy
import statistics
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, existing_file, non_negative_int, positive_int, run
import hssl  # noqa: F401
from hssl.apis import build_model
from hssl.apis.search import HEAD_TYPES, search_config
from hssl.engine.hooks.ema_teacher import ema_update
from hssl.utils import register_all_modules


def parse_args():
    p = ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', type=existing_file)
    p.add_argument('--heads', nargs='+', default=list(HEAD_TYPES))
    p.add_argument('--iters', type=positive_int, default=20, help='timed iterations per model')
    p.add_argument('--warmup', type=non_negative_int, default=3, help='untimed iterations per model first')
    p.add_argument('--batches', type=positive_int, default=4, help='distinct batches to cycle through')
    p.add_argument('--depth', type=positive_int, help='depth of every head')
    p.add_argument('--batch-size', type=positive_int, help='train_dataloader.batch_size')
    p.add_argument('--threads', type=positive_int, help='torch CPU threads')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    variants = {f'{len(args.heads)} heads': search_config(cfg, args.heads, args.depth),
                f'1 head ({args.heads[0]})': search_config(cfg, args.heads[:1], args.depth)}
    scope = cfg.get('default_scope', 'hssl')
    with DefaultScope.overwrite_default_scope(scope):
        loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=0)
        batches = []
        for batch in loader:
            batches.append(batch)
            if len(batches) == args.batches:
                break
        steps = {}
        for name, variant in variants.items():
            model = build_model(variant, device=args.device).train()
            wrapper = build_optim_wrapper(model, copy.deepcopy(variant.optim_wrapper))
            params = sum(p.numel() for p in model.student.parameters())
            steps[name] = (model, wrapper, [])
            print(f'{name}: {params / 1e6:.3f} M student parameters')

    for i in range(args.warmup + args.iters):
        batch = batches[i % len(batches)]
        for model, wrapper, times in steps.values():
            sync(args.device)
            start = time.perf_counter()
            model.train_step(batch, wrapper)
            ema_update(model.teacher, model.student)  # EMATeacherHook's step
            sync(args.device)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)

    shape = tuple(batches[0]['inputs'][0].shape[1:]) if isinstance(batches[0]['inputs'], list) \
        else None
    print(f'\n{args.config}: batch {cfg.train_dataloader.batch_size}, '
          f'{len(batches[0]["inputs"])} views (first {shape}), device {args.device}, '
          f'{torch.get_num_threads()} threads, median of {args.iters} iterations')
    medians = {name: statistics.median(t) for name, (_, _, t) in steps.items()}
    fastest = {name: min(t) for name, (_, _, t) in steps.items()}
    for name in medians:
        print(f'{name:>24}: {medians[name]:.4f} s/iteration (median), {fastest[name]:.4f} (min)')
    (many, one), (many_min, one_min) = medians.values(), fastest.values()
    print(f'{"ratio":>24}: {many / one:.2f}x (median), {many_min / one_min:.2f}x (min)')


if __name__ == '__main__':
    run(main)
