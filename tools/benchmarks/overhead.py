"""The cost of HSSL: baseline and HSSL variant trained side by side.

    python tools/benchmarks/overhead.py [--method ibot] [--arch small] [--head ConvNeXtHead]
        [--depth 3] [--global-size 64] [--local-size 32] [--local-crops 4] [--batch 8]
        [--device cpu|cuda] [--precision fp32|bf16] [--foreach] [--steps 20] [--warmup 3]
        [--profile N] [--parallel convnext_tiny]

Builds both models (same seed) and times full training steps (teacher and
student forward, backward, clipped AdamW (fused where torch has the kernel, CPU
included; ``--foreach`` for the foreach one), foreach EMA update) in turns, step by step,
on the same synthetic multi-crop batch, so both see the same machine load;
the first ``--warmup`` rounds are dropped and medians are reported. Peak
memory per model: see `tools/benchmarks/harness.py` (static + step peak; CUDA
allocator stats on a GPU, the profiler's allocator events on the CPU).
The last line reads ``overhead: time x1.07 memory x1.05``.

``--parallel MODEL`` adds a third model, timed in the same turns: the
parallel connection of Tab. XVII, a whole timm ``MODEL`` (e.g.
``convnext_tiny``) beside the base model taking the images
(``ParallelNetwork``); a line ``parallel: time x.. memory x..`` follows
(both against the baseline).

Paper (Tab. XVII / XIII): time x1.09 / x1.14, memory x1.12 / x1.17.
GPU (the paper's setting):
    python tools/benchmarks/overhead.py --arch base --global-size 224 --local-size 96 \
        --local-crops 10 --batch 64 --precision bf16 --fused --device cuda
Tab. XVII (DINO, ViT-S/16; serial depth 3 vs a parallel ConvNeXt-T; paper x1.09 / x2.53 time):
    python tools/benchmarks/overhead.py --method dino --arch small --global-size 224 \
        --local-size 96 --local-crops 10 --batch 32 --precision bf16 --fused --device cuda \
        --parallel convnext_tiny
Also printed (alone with ``--flops-only``, instant at any size): the FLOPs per image of both steps (counted on the meta device)
and their ratio. ``--profile N`` prints torch.profiler's top N operators of one HSSL step.
"""

import torch

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, non_negative_int, positive_int, run
from bench_setup import add_arguments, build, setup_threads, views
from harness import (TrainStep, interleaved_timings, meta_step_flops, step_peak_bytes,
                                 summary)


def parse_args(argv=None):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    p.add_argument('--steps', type=positive_int, default=20, help='measured steps per model')
    p.add_argument('--warmup', type=non_negative_int, default=3, help='steps per model not measured')
    p.add_argument('--flops-only', action='store_true',
                   help='only count FLOPs per image (meta device: any size, no time, no memory)')
    p.add_argument('--compare-updates', action='store_true',
                   help='also time both models with foreach AdamW and mmengine\'s per-tensor EMA '
                        'loop (the update before fused AdamW / foreach EMA), all four in turns')
    p.add_argument('--profile', type=non_negative_int, default=0, metavar='N',
                   help='print the top N operators (self time) of one HSSL step')
    p.add_argument('--parallel', metavar='MODEL',
                   help='also time a parallel auxiliary network, the timm MODEL on the images '
                        '(Tab. XVII: convnext_tiny)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_threads(args)
    if args.flops_only:
        args.device = 'cpu'
    steps = {'baseline': TrainStep(build(args, None), args.precision, args.fused),
             'hssl': TrainStep(build(args, args.head), args.precision, args.fused)}
    if args.parallel:
        parallel = dict(type='ParallelNetwork', model_name=args.parallel)
        steps['parallel'] = TrainStep(build(args, parallel), args.precision, args.fused)
    x, masks = views(args)
    masks = masks if args.method == 'ibot' else None
    flops = {name: meta_step_flops(step.model, x, masks) for name, step in steps.items()}
    flop_line = (f'FLOPs per image (counted): baseline {flops["baseline"] / 1e9:.2f} G, hssl '
                 f'{flops["hssl"] / 1e9:.2f} G, x{flops["hssl"] / flops["baseline"]:.3f} (the '
                 'least time ratio where compute bound)')
    if args.parallel:
        flop_line += (f'; parallel {flops["parallel"] / 1e9:.2f} G, '
                      f'x{flops["parallel"] / flops["baseline"]:.3f}')
    if args.flops_only:
        print(f'{args.method} ViT-{args.arch}/{args.patch_size} + {args.head} depth {args.depth}, '
              f'2 x {args.global_size} + {args.local_crops} x {args.local_size} px: {flop_line}')
        return dict(flops=flops['hssl'] / flops['baseline'])
    print(f'{args.method} ViT-{args.arch}/{args.patch_size}, head {args.head} depth {args.depth}, '
          f'2 x {args.global_size} + {args.local_crops} x {args.local_size} px, batch {args.batch}, '
          f'{args.device}, {args.precision}, {"fused" if steps["hssl"].fused else "foreach"} AdamW, '
          f'{torch.get_num_threads()} threads, '
          f'{args.steps} steps after {args.warmup} warm-up, torch {torch.__version__}')
    timed = dict(steps)
    if args.compare_updates:
        timed['baseline, foreach AdamW + EMA loop'] = TrainStep(build(args, None), args.precision,
                                                                False, ema='loop')
        timed['hssl, foreach AdamW + EMA loop'] = TrainStep(build(args, args.head), args.precision,
                                                            False, ema='loop')
    times = interleaved_timings(timed, x, masks, args.steps, args.warmup)
    if args.compare_updates:
        old = [summary(times[f'{n}, foreach AdamW + EMA loop'])['median'] for n in ('baseline', 'hssl')]
        print(f'foreach AdamW + EMA loop: baseline {old[0] * 1e3:.1f} ms, hssl {old[1] * 1e3:.1f} '
              f'ms, time x{old[1] / old[0]:.2f}')
    rows = {}
    for name, step in steps.items():
        s = summary(times[name])
        peak, how = step_peak_bytes(step, x, masks)
        rows[name] = dict(s, peak=peak)
        print(f'{name:>9}: {1 / s["median"]:7.3f} it/s  {args.batch / s["median"]:8.2f} img/s  '
              f'step {s["median"] * 1e3:8.1f} ms (IQR {s["q1"] * 1e3:.1f}-{s["q3"] * 1e3:.1f}, '
              f'n={s["n"]})  peak {peak / 2**20:8.1f} MiB (static {step.static_bytes() / 2**20:.1f})')
    print(f'peak memory: {how}')
    print(flop_line)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device.startswith('cuda') else [])
        with profile(activities=acts) as prof:
            steps['hssl'](x, masks)
        key = 'self_cuda_time_total' if args.device.startswith('cuda') else 'self_cpu_time_total'
        print(prof.key_averages().table(sort_by=key, row_limit=args.profile))
    t = rows['hssl']['median'] / rows['baseline']['median']
    m = rows['hssl']['peak'] / rows['baseline']['peak']
    if args.parallel:
        tp = rows['parallel']['median'] / rows['baseline']['median']
        mp = rows['parallel']['peak'] / rows['baseline']['peak']
        print(f'parallel ({args.parallel}): time x{tp:.2f} memory x{mp:.2f}')
    print(f'overhead: time x{t:.2f} memory x{m:.2f}')
    return dict(time=t, memory=m, flops=flops['hssl'] / flops['baseline'])


if __name__ == '__main__':
    run(main)
