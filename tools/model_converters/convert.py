"""Convert an hssl pre-training checkpoint to a backbone for timm, mmpretrain,
mmsegmentation or mmdetection.

    python tools/model_converters/convert.py CHECKPOINT OUT --to {timm,mmpretrain,mmseg,mmdet}
        [--student]

Keeps the base model only (the EMA teacher's by default, ``--student`` for the
student's); drops the auxiliary and projection heads, the mask token and the
optimizer state. ``--to timm``: a bare state dict under timm's names (``.pth``,
or ``.safetensors`` when OUT ends so); ``--to mmpretrain``: ``{'state_dict':
backbone}`` under mmpretrain's ``VisionTransformer`` names, for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` in mmpretrain / mmseg /
mmdet configs; ``--to mmseg``: ``{'state_dict': ...}`` under mmsegmentation's
``VisionTransformer`` names (UperNet); ``--to mmdet``: ``{'model': ...}``
under ViTDet's ``ViT`` names (mmdetection's ViT). See
docs/user_guides/evaluation.md.
A mistake ends with one line on stderr (--debug: the traceback).
"""
import os
import os.path as osp

import torch

from hssl.reliability import safe_load
from hssl.utils.cli import ArgumentParser, existing_file, run
from hssl.utils.model_converters import (backbone_state_dict, timm_model_name, to_mmdet,
                                         to_mmpretrain, to_mmseg, to_timm, vit_sizes)


def parse_args(argv=None):
    p = ArgumentParser(description='hssl checkpoint -> timm / mmpretrain backbone')
    p.add_argument('checkpoint', type=existing_file)
    p.add_argument('out')
    p.add_argument('--to', required=True, choices=['timm', 'mmpretrain', 'mmseg', 'mmdet'])
    p.add_argument('--student', action='store_true',
                   help="convert the student's backbone (default: the EMA teacher's)")
    return p.parse_args(argv)


def num_heads_from_meta(ckpt: dict):
    """The ViT's number of heads from the config saved in an mmengine checkpoint, or None."""
    try:
        from mmengine.config import Config

        from hssl.models.backbones.vit import ARCHS
        arch = Config.fromstring(ckpt['meta']['cfg'], '.py').model.network.backbone.arch
        return (ARCHS[arch] if isinstance(arch, str) else arch)['num_heads']
    except Exception:  # noqa: BLE001 - no or another config: the hint stays generic
        return None


def timm_hint(backbone: dict, num_heads, out: str) -> str:
    """How to build the timm model that loads ``out``."""
    name = timm_model_name(backbone)
    if name:
        return (f"timm.create_model('{name}', num_classes=0, pretrained=True, "
                f"pretrained_cfg_overlay=dict(file='{out}'))")
    s = vit_sizes(backbone)
    return (f"timm.models.vision_transformer.VisionTransformer(img_size={s['img_size']}, "
            f"patch_size={s['patch_size']}, embed_dim={s['embed_dims']}, "
            f"depth={s['num_layers']}, num_heads={num_heads or '<num_heads of your config>'}, "
            f"mlp_ratio={s['feedforward_channels'] / s['embed_dims']:g}, num_classes=0)"
            f".load_state_dict(torch.load({out!r}))")


def mmpretrain_hint(backbone: dict, num_heads, out: str) -> str:
    """The mmpretrain backbone config that loads ``out``."""
    s = vit_sizes(backbone)
    return (f"backbone=dict(type='VisionTransformer', arch=dict(embed_dims={s['embed_dims']}, "
            f"num_layers={s['num_layers']}, num_heads={num_heads or '<num_heads of your config>'}, "
            f"feedforward_channels={s['feedforward_channels']}), img_size={s['img_size']}, "
            f"patch_size={s['patch_size']}, out_type='cls_token', "
            f"init_cfg=dict(type='Pretrained', checkpoint='{out}'))")


def mmseg_hint(backbone: dict, num_heads, out: str) -> str:
    """The mmseg backbone config that loads ``out`` (its img_size is the segmentation crop)."""
    s = vit_sizes(backbone)
    return (f"backbone=dict(type='VisionTransformer', img_size=(512, 512), "
            f"patch_size={s['patch_size']}, embed_dims={s['embed_dims']}, "
            f"num_layers={s['num_layers']}, num_heads={num_heads or '<num_heads of your config>'}, "
            f"mlp_ratio={s['feedforward_channels'] / s['embed_dims']:g}, qkv_bias=True, "
            f"final_norm=True, norm_cfg=dict(type='LN', eps=1e-6), "
            f"init_cfg=dict(type='Pretrained', checkpoint='{out}'))")


def mmdet_hint(backbone: dict, num_heads, out: str) -> str:
    """The ViTDet backbone config that loads ``out``."""
    s = vit_sizes(backbone)
    return (f"backbone=dict(type='ViT', img_size=1024, patch_size={s['patch_size']}, "
            f"embed_dim={s['embed_dims']}, depth={s['num_layers']}, "
            f"num_heads={num_heads or '<num_heads of your config>'}, "
            f"mlp_ratio={s['feedforward_channels'] / s['embed_dims']:g}, "
            f"pretrain_img_size={s['img_size']}, pretrain_use_cls_token=True, "
            f"init_cfg=dict(type='Pretrained', checkpoint='{out}'))")


HINTS = {'mmpretrain': mmpretrain_hint, 'mmseg': mmseg_hint, 'mmdet': mmdet_hint}


def convert(checkpoint: str, out: str, to: str, student: bool = False):
    """Write the converted backbone; return it (mmpretrain names) and the loaded checkpoint."""
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
        writer = {'mmpretrain': to_mmpretrain, 'mmseg': to_mmseg, 'mmdet': to_mmdet}[to]
        torch.save(writer(backbone, meta), out)
    return backbone, ckpt


def main(argv=None):
    args = parse_args(argv)
    backbone, ckpt = run(convert, args.checkpoint, args.out, args.to, args.student,
                         prog='convert.py')
    sizes = vit_sizes(backbone)
    print(f'{"student" if args.student else "teacher"} backbone: {len(backbone)} tensors, '
          f'{sum(v.numel() for v in backbone.values()) / 1e6:.2f} M parameters, '
          f'width {sizes["embed_dims"]}, {sizes["num_layers"]} blocks -> {args.out}')
    if args.to == 'timm':
        print(f'load: {timm_hint(backbone, num_heads_from_meta(ckpt), args.out)}')
    else:
        print(f'load: {HINTS[args.to](backbone, num_heads_from_meta(ckpt), args.out)}')


if __name__ == '__main__':
    run(main)
