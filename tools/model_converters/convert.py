"""Convert an hssl pre-training checkpoint to a backbone for timm or mmpretrain.

    python tools/model_converters/convert.py CHECKPOINT OUT --to {timm,mmpretrain} [--student]

Keeps the base model only (the EMA teacher's by default, ``--student`` for the
student's); drops the auxiliary and projection heads, the mask token and the
optimizer state. ``--to timm``: a bare state dict under timm's names (``.pth``,
or ``.safetensors`` when OUT ends so); ``--to mmpretrain``: ``{'state_dict':
backbone}`` under mmpretrain's ``VisionTransformer`` names, for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` in mmpretrain / mmseg /
mmdet configs. See docs/user_guides/evaluation.md.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from hssl.utils import safe_load
from hssl.utils.model_converters import (backbone_state_dict, timm_model_name, to_mmpretrain,
                                         to_timm)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='hssl checkpoint -> timm / mmpretrain backbone')
    p.add_argument('checkpoint')
    p.add_argument('out')
    p.add_argument('--to', required=True, choices=['timm', 'mmpretrain'])
    p.add_argument('--student', action='store_true',
                   help="convert the student's backbone (default: the EMA teacher's)")
    return p.parse_args(argv)


def convert(checkpoint: str, out: str, to: str, student: bool = False) -> dict:
    ckpt = safe_load(checkpoint)
    backbone = backbone_state_dict(ckpt, student=student, source=checkpoint)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if to == 'timm':
        weights = to_timm(backbone)
        if out.endswith('.safetensors'):
            from safetensors.torch import save_file
            save_file({k: v.contiguous() for k, v in weights.items()}, out)
        else:
            torch.save(weights, out)
    else:
        meta = {k: v for k, v in (ckpt.get('meta') or {}).items() if k in ('epoch', 'iter', 'cfg')}
        meta.update(source=osp.basename(checkpoint), branch='student' if student else 'teacher')
        weights = to_mmpretrain(backbone, meta)
        torch.save(weights, out)
    return backbone


def main(argv=None):
    args = parse_args(argv)
    try:
        backbone = convert(args.checkpoint, args.out, args.to, args.student)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'convert.py: error: {err}')
    embed = backbone['patch_embed.projection.weight'].shape[0]
    layers = 1 + max(int(k.split('.')[1]) for k in backbone if k.startswith('layers.'))
    print(f'{"student" if args.student else "teacher"} backbone: {len(backbone)} tensors, '
          f'{sum(v.numel() for v in backbone.values()) / 1e6:.2f} M parameters, '
          f'width {embed}, {layers} blocks -> {args.out}')
    if args.to == 'timm':
        name = timm_model_name(backbone)
        if name:
            print(f"load: timm.create_model('{name}', num_classes=0, pretrained=True, "
                  f"pretrained_cfg_overlay=dict(file='{args.out}'))")
        else:
            print('load: timm.models.vision_transformer.VisionTransformer(embed_dim=..., depth=..., '
                  'num_heads=..., patch_size=..., img_size=..., mlp_ratio=..., num_classes=0)'
                  f'.load_state_dict(torch.load({args.out!r}))  (the sizes of your config)')
    else:
        print(f"load: backbone=dict(type='VisionTransformer', ..., "
              f"init_cfg=dict(type='Pretrained', checkpoint='{args.out}'))")


if __name__ == '__main__':
    main()
