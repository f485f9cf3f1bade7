"""Training throughput per device: images/s, achieved TFLOP/s and its
fraction of the device's bound, for iBOT (or DINO) + HSSL.

    # the issue's setting: ViT-B/16, 2 x 224 + 10 x 96 px, bf16, one GPU
    python tools/benchmarks/throughput.py --device cuda --batch 64 --precision bf16 --fused
    # the same on the CPU at toy size (checks the script, not a figure to quote)
    python tools/benchmarks/throughput.py --device cpu --arch tiny --global-size 32 \
        --local-size 16 --local-crops 2 --batch 4 --precision fp32 --steps 2 --warmup 1

A step is the full training step (teacher forward on the globals, student
forward and backward on all crops, clipped AdamW, EMA update). FLOPs per image
are counted, not assumed: ``FlopCounterMode`` over one step (attention
included; grouped-conv backward counted right, see
``harness.conv_backward_flop``), on a copy of the model on
the ``meta`` device.
Reference figures of the issue are printed next to the measured ones.
``--head none`` measures the baseline.
"""
import torch

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, non_negative_int, positive_float, positive_int, run
from bench_setup import add_arguments, build, setup_threads, views
from harness import (TrainStep, backbone_forward_flops, interleaved_timings,
                                 meta_step_flops, summary)

# the arithmetic (ViT-B/16, 2 x 224 + 10 x 96, attention included)
REFERENCE = dict(fwd_224=35.1e9, fwd_96=6.4e9, backbone_per_image=472e9,
                 step_per_image=517e9, peak=800e12, bound=1550, target_fraction=0.45)


def parse_args(argv=None):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, arch='base', global_size=224, local_size=96, local=10, batch=64,
                  precision='bf16')
    p.add_argument('--steps', type=positive_int, default=20, help='measured steps')
    p.add_argument('--warmup', type=non_negative_int, default=5, help='steps not measured')
    p.add_argument('--peak-tflops', type=positive_float, default=REFERENCE['peak'] / 1e12,
                   help='dense bf16 TFLOP/s the fraction is taken of (the issue: 800 '
                        'for an H100)')
    args = p.parse_args(argv)
    if args.head.lower() == 'none':
        args.head = None
    return args


def main(argv=None):
    args = parse_args(argv)
    setup_threads(args)
    step = TrainStep(build(args, args.head), args.precision, args.fused)
    x, masks = views(args)
    masks = masks if args.method == 'ibot' else None
    flops = meta_step_flops(step.model, x, masks)
    fwd_g = backbone_forward_flops(step.model, args.global_size)
    fwd_l = backbone_forward_flops(step.model, args.local_size)
    backbone = 2 * fwd_g + 3 * (2 * fwd_g + args.local_crops * fwd_l)  # teacher fwd + student fwd/bwd
    times = summary(interleaved_timings({'step': step}, x, masks, args.steps, args.warmup)['step'])
    ips = args.batch / times['median']
    achieved = flops * ips
    bound = args.peak_tflops * 1e12 / flops
    device = torch.cuda.get_device_name(args.device) if args.device.startswith('cuda') else 'cpu'
    print(f'{args.method} + {args.head or "no head (baseline)"} ViT-{args.arch}/{args.patch_size}, '
          f'2 x {args.global_size} + {args.local_crops} x {args.local_size} px, batch {args.batch}, '
          f'{args.precision}, {"fused" if step.fused else "foreach"} AdamW, {device}, '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}')
    print(f'backbone forward: {fwd_g / 1e9:.2f} GFLOP at {args.global_size} px, '
          f'{fwd_l / 1e9:.2f} at {args.local_size} px (issue, ViT-B/16: 35.1 at 224, 6.4 at 96)')
    print(f'per image: backbone {backbone / 1e9:.1f} GFLOP, whole step {flops / 1e9:.1f} GFLOP '
          f'(issue: 472 backbone, ~517 with the iBOT head)')
    print(f'step {times["median"] * 1e3:.1f} ms (IQR {times["q1"] * 1e3:.1f}-{times["q3"] * 1e3:.1f}, '
          f'n={times["n"]}): {ips:.1f} images/s, {achieved / 1e12:.3f} TFLOP/s achieved')
    print(f'bound at {args.peak_tflops:g} TFLOP/s: {bound:.0f} images/s; reached {ips / bound:.1%} '
          f'(issue: bound ~1,550 images/s on an H100 at 800, target >= 45%, ~700 images/s)')
    return dict(images_per_s=ips, flops_per_image=flops, fraction=ips / bound)


if __name__ == '__main__':
    run(main)
