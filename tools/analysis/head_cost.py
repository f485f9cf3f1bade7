"""Parameters and forward FLOPs of the auxiliary heads against their base model.

    python tools/analysis/head_cost.py [--width 384] [--grid 14] [--img-size 224] [--patch-size 16]
        [--arch small] [--depths 1 3]

Defaults: heads on a ViT-S/16 base at 224 px (a 14x14 grid of width 384), first shortcut
removed, one image. FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``, which
counts matrix products, convolutions and attention and counts a multiply-add as 2 FLOPs;
element-wise operations, normalisation, pooling and softmax are not counted (so
PoolFormer's pooling token mixer counts 0). Attention runs on PyTorch's math backend so
that its two matrix products are counted on every device. A head's parameters include
its own LayerNorm; the projector that follows the head is not counted (its size is the
same for every head of one width, and ConcatHeads' is wider).
"""

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, positive_int, run
from hssl.registry import MODELS
from hssl.utils import register_all_modules

HEADS = [
    ('ConvNeXtHead', dict(type='ConvNeXtHead')),
    ('ResMLPHead', dict(type='ResMLPHead')),  # grid_size set to --grid below
    ('ResNetHead (bottleneck)', dict(type='ResNetHead', block='bottleneck')),
    ('ResNetHead (basic)', dict(type='ResNetHead', block='basic')),
    ('PoolFormerHead', dict(type='PoolFormerHead')),
    ('SwinHead', dict(type='SwinHead')),
    ('ViTHead', dict(type='ViTHead')),
    ('ConcatHeads (ConvNeXt + ResMLP)', dict(type='ConcatHeads', heads=[
        dict(type='ConvNeXtHead'), dict(type='ResMLPHead')])),
]


def count(model, x):
    """(parameters, forward GFLOPs) of ``model(x)``."""
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        model(x)
    return params, counter.get_total_flops() / 1e9


def with_grid(cfg, grid):
    cfg = dict(cfg)
    if cfg['type'] == 'ResMLPHead':
        cfg['grid_size'] = grid
    if cfg['type'] == 'ConcatHeads':
        cfg['heads'] = [with_grid(h, grid) for h in cfg['heads']]
    return cfg


def main():
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='small', help='ViT arch of the base model')
    parser.add_argument('--img-size', type=positive_int, default=224)
    parser.add_argument('--patch-size', type=positive_int, default=16)
    parser.add_argument('--depths', type=positive_int, nargs='+', default=[1, 3])
    args = parser.parse_args()
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)

    base = MODELS.build(dict(type='ViT', arch=args.arch, img_size=args.img_size,
                             patch_size=args.patch_size))
    width, grid = base.embed_dims, args.img_size // args.patch_size
    base_params, base_flops = count(base, torch.randn(1, 3, args.img_size, args.img_size))
    print(f'base model: ViT-{args.arch}/{args.patch_size} at {args.img_size} px: '
          f'{base_params / 1e6:.2f} M parameters, {base_flops:.2f} GFLOPs forward '
          f'(one image; grid {grid}x{grid}, width {width})\n')

    cols = []
    for d in args.depths:
        cols += [f'params d{d} (M)', f'GFLOPs d{d}', f'% base params d{d}', f'% base FLOPs d{d}']
    print('| head | ' + ' | '.join(cols) + ' |')
    print('|---|' + '---:|' * len(cols))
    x = torch.randn(1, width, grid, grid)
    for name, cfg in HEADS:
        row = []
        for d in args.depths:
            head = MODELS.build(dict(with_grid(cfg, grid), in_channels=width, depth=d,
                                     first_shortcut=False))
            params, flops = count(head, x)
            row += [f'{params / 1e6:.3f}', f'{flops:.3f}', f'{100 * params / base_params:.1f}',
                    f'{100 * flops / base_flops:.1f}']
        print(f'| {name} | ' + ' | '.join(row) + ' |')


if __name__ == '__main__':
    run(main)
