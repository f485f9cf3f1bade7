"""Backbone weights of an hssl checkpoint for downstream code (timm, mmpretrain).

An hssl pre-training checkpoint (mmengine) holds the whole algorithm:
``teacher.module.backbone.*`` (the EMA teacher's base model, what DINO / iBOT
evaluate), ``student.backbone.*``, projection heads, auxiliary heads, loss
centres, optimizer state. Downstream code wants the base model only (the
auxiliary head is dropped after pre-training, Sec. 3.1):

* mmpretrain / mmseg / mmdet: hssl's ViT *is* mmpretrain's
  ``VisionTransformer`` (same parameter names), so the backbone keys are kept
  as they are, under ``state_dict``: ``VisionTransformer(...,
  init_cfg=dict(type='Pretrained', checkpoint=OUT))`` loads them.
* mmsegmentation (``mmseg.models.backbones.VisionTransformer``, e.g. UperNet
  on ADE20K): mmseg builds its blocks from mmcv's ``MultiheadAttention``
  (a wrapped ``nn.MultiheadAttention``) and ``FFN``, so the attention keys
  are renamed (``attn.qkv`` -> ``attn.attn.in_proj_``, ``attn.proj`` ->
  ``attn.attn.out_proj``; q, k, v rows in the same order); the final norm stays
  ``ln1`` (mmseg's ``final_norm=True``). ``{'state_dict': ...}``; mmseg resizes
  ``pos_embed`` (cls + a square grid) to its ``img_size`` when it loads it.
* mmdetection (ViTDet's ``ViT``, ``projects/ViTDet``): timm-like block names
  (``blocks.<i>.norm1``, ``attn.qkv``, ``mlp.fc1``, ...), ``patch_embed.proj``,
  ``pos_embed`` with its cls position (``pretrain_use_cls_token=True``), no
  cls token and no final norm (ViTDet has neither); under ``model``, the
  key ViTDet's ``init_weights`` reads; it interpolates ``pos_embed`` at run time
  from ``pretrain_img_size``.
* timm: the keys are renamed to timm's ``VisionTransformer``
  (``layers.i.ln1`` -> ``blocks.i.norm1``, ``ffn.layers.0.0`` -> ``mlp.fc1``,
  ``ln1`` -> ``norm``, ...); ``timm.create_model('vit_small_patch16_224',
  num_classes=0)`` loads the result with ``strict=True``.

The iBOT mask token is dropped (a pre-training-only parameter).
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import torch

__all__ = ['BRANCH_PREFIXES', 'backbone_state_dict', 'timm_model_name', 'to_mmdet', 'to_mmpretrain',
           'to_mmseg', 'to_timm', 'vit_sizes']

BRANCH_PREFIXES = {'teacher': 'teacher.module.backbone.', 'student': 'student.backbone.'}
DROPPED = ('mask_token',)

# mmpretrain VisionTransformer key -> timm VisionTransformer key ({i}: block index).
_TIMM_NAMES = [
    (r'cls_token', 'cls_token'),
    (r'pos_embed', 'pos_embed'),
    (r'patch_embed\.projection\.(weight|bias)', r'patch_embed.proj.\1'),
    (r'layers\.(\d+)\.ln1\.(weight|bias)', r'blocks.\1.norm1.\2'),
    (r'layers\.(\d+)\.attn\.qkv\.(weight|bias)', r'blocks.\1.attn.qkv.\2'),
    (r'layers\.(\d+)\.attn\.proj\.(weight|bias)', r'blocks.\1.attn.proj.\2'),
    (r'layers\.(\d+)\.attn\.gamma1\.weight', r'blocks.\1.ls1.gamma'),
    (r'layers\.(\d+)\.ln2\.(weight|bias)', r'blocks.\1.norm2.\2'),
    (r'layers\.(\d+)\.ffn\.layers\.0\.0\.(weight|bias)', r'blocks.\1.mlp.fc1.\2'),
    (r'layers\.(\d+)\.ffn\.layers\.1\.(weight|bias)', r'blocks.\1.mlp.fc2.\2'),
    (r'layers\.(\d+)\.ffn\.gamma2\.weight', r'blocks.\1.ls2.gamma'),
    (r'ln1\.(weight|bias)', r'norm.\1'),
]
_PER_BLOCK = ['ln1.weight', 'ln1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight',
              'attn.proj.bias', 'ln2.weight', 'ln2.bias', 'ffn.layers.0.0.weight',
              'ffn.layers.0.0.bias', 'ffn.layers.1.weight', 'ffn.layers.1.bias']
_GLOBAL = ['cls_token', 'pos_embed', 'patch_embed.projection.weight',
           'patch_embed.projection.bias', 'ln1.weight', 'ln1.bias']


def expected_keys(num_layers: int) -> List[str]:
    """The keys of a (qkv-biased, layer-scale-free) mmpretrain ViT backbone."""
    return _GLOBAL[:4] + [f'layers.{i}.{k}' for i in range(num_layers) for k in _PER_BLOCK] \
        + _GLOBAL[4:]


def _layout_error(source: str, message: str, found: List[str], prefix: str) -> ValueError:
    example = ', '.join(prefix + k for k in expected_keys(1)[:6])
    tops = sorted({'.'.join(k.split('.')[:2]) for k in found})
    return ValueError(
        f'{source}: {message}. Expected an hssl ViT checkpoint with keys {example}, ... '
        f'layers.<i>.{{{", ".join(_PER_BLOCK)}}}, ln1.weight, ln1.bias under "{prefix}" '
        f'(teacher: "{BRANCH_PREFIXES["teacher"]}", student: "{BRANCH_PREFIXES["student"]}"); '
        f'it has {len(found)} keys starting with {tops[:12]}')


def backbone_state_dict(checkpoint: dict, student: bool = False,
                        source: str = 'checkpoint') -> 'OrderedDict[str, torch.Tensor]':
    """The base model's weights (mmpretrain ``VisionTransformer`` names).

    Args:
        checkpoint: a loaded mmengine checkpoint (``{'state_dict': ...}``) or
            a bare state dict.
        student: take the student's backbone instead of the EMA teacher's.
        source: the file name, for error messages.

    Raises:
        ValueError: the checkpoint has no backbone of that branch, or its keys
            are not those of a ViT (missing / unknown keys are listed).
    """
    state = checkpoint.get('state_dict', checkpoint)
    branch = 'student' if student else 'teacher'
    prefix = BRANCH_PREFIXES[branch]
    backbone = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not backbone:
        hint = ''
        if not student and any(k.startswith(BRANCH_PREFIXES['student']) for k in state):
            hint = ' (it has a student backbone: convert that with --student)'
        raise _layout_error(source, f'no {branch} backbone weights{hint}', list(state), prefix)
    for key in DROPPED:
        backbone.pop(key, None)
    layers = {int(m.group(1)) for k in backbone for m in [re.match(r'layers\.(\d+)\.', k)] if m}
    required = expected_keys(max(layers) + 1 if layers else 0)
    missing = [k for k in required if k not in backbone]
    unknown = [k for k in backbone if not any(re.fullmatch(p, k) for p, _ in _TIMM_NAMES)]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f'missing {missing[:8]}{" ..." if len(missing) > 8 else ""}')
        if unknown:
            problems.append(f'unknown {unknown[:8]}{" ..." if len(unknown) > 8 else ""}')
        raise _layout_error(source, 'the backbone is not a ViT of the known layout: '
                            + '; '.join(problems), [prefix + k for k in backbone], prefix)
    return backbone


def to_mmpretrain(backbone: Dict[str, torch.Tensor], meta: Optional[dict] = None) -> dict:
    """A checkpoint that mmpretrain's ``VisionTransformer`` loads through
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (no prefix)."""
    return {'state_dict': OrderedDict(backbone), 'meta': dict(meta or {})}


def to_timm(backbone: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """The same weights under timm's ``VisionTransformer`` names (a bare state dict)."""
    out = OrderedDict()
    for key, value in backbone.items():
        for pattern, name in _TIMM_NAMES:
            if re.fullmatch(pattern, key):
                out[re.sub(pattern, name, key)] = value
                break
        else:  # backbone_state_dict() lets no unknown key through
            raise KeyError(f'no timm name for {key!r}')
    return out


# mmpretrain key -> mmseg VisionTransformer key (the rest is unchanged)
_MMSEG_NAMES = [
    (r'layers\.(\d+)\.attn\.qkv\.weight', r'layers.\1.attn.attn.in_proj_weight'),
    (r'layers\.(\d+)\.attn\.qkv\.bias', r'layers.\1.attn.attn.in_proj_bias'),
    (r'layers\.(\d+)\.attn\.proj\.(weight|bias)', r'layers.\1.attn.attn.out_proj.\2'),
]


def _no_layer_scale(backbone: Dict[str, torch.Tensor], target: str) -> None:
    scaled = [k for k in backbone if 'gamma' in k]
    if scaled:
        raise ValueError(f'{target}\'s ViT has no layer scale; this backbone has {scaled[:2]}')


def to_mmseg(backbone: Dict[str, torch.Tensor], meta: Optional[dict] = None) -> dict:
    """A checkpoint for mmseg's ``VisionTransformer(final_norm=True, ...)``
    (``init_cfg=dict(type='Pretrained', checkpoint=...)``)."""
    _no_layer_scale(backbone, 'mmsegmentation')
    out = OrderedDict()
    for key, value in backbone.items():
        for pattern, name in _MMSEG_NAMES:
            if re.fullmatch(pattern, key):
                key = re.sub(pattern, name, key)
                break
        out[key] = value
    return {'state_dict': out, 'meta': dict(meta or {})}


def to_mmdet(backbone: Dict[str, torch.Tensor], meta: Optional[dict] = None) -> dict:
    """A checkpoint for mmdet's ViTDet ``ViT(pretrain_use_cls_token=True, ...)``
    (``init_cfg=dict(type='Pretrained', checkpoint=...)``)."""
    _no_layer_scale(backbone, 'ViTDet')
    timm = to_timm(backbone)
    out = OrderedDict((k, v) for k, v in timm.items()
                      if k != 'cls_token' and not k.startswith('norm.'))
    return {'model': out, 'meta': dict(meta or {})}


_TIMM_SIZES = {192: 'tiny', 384: 'small', 768: 'base', 1024: 'large'}
_TIMM_DEPTHS = {'tiny': 12, 'small': 12, 'base': 12, 'large': 24}


def vit_sizes(backbone: Dict[str, torch.Tensor]) -> dict:
    """What the weights tell of the ViT: width, depth, MLP width, patch and
    image size (not the number of heads: it leaves no trace in the shapes)."""
    embed, _, patch, _ = backbone['patch_embed.projection.weight'].shape
    tokens = backbone['pos_embed'].shape[1] - 1
    return dict(embed_dims=embed,
                num_layers=1 + max(int(k.split('.')[1]) for k in backbone
                                   if k.startswith('layers.')),
                feedforward_channels=backbone['layers.0.ffn.layers.0.0.weight'].shape[0],
                patch_size=patch, img_size=int(round(tokens ** 0.5)) * patch)


def timm_model_name(backbone: Dict[str, torch.Tensor]) -> Optional[str]:
    """timm's name for this ViT (e.g. ``vit_small_patch16_224``), or None for
    a size that timm has no preset of (build ``VisionTransformer`` directly)."""
    sizes = vit_sizes(backbone)
    size = _TIMM_SIZES.get(sizes['embed_dims'])
    if (size is None or sizes['num_layers'] != _TIMM_DEPTHS[size]
            or sizes['feedforward_channels'] != 4 * sizes['embed_dims']
            or any(k.endswith('gamma1.weight') for k in backbone)):
        return None
    return f'vit_{size}_patch{sizes["patch_size"]}_{sizes["img_size"]}'
