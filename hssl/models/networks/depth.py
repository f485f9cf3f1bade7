"""How deep a base model and its heads are, and drop path continued over both."""
import copy
from typing import Dict, Optional

import torch

from hssl.models.backbones.vit import ARCHS, ViT
from hssl.registry import MODELS


def continue_drop_path(backbone: dict, aux_cfgs: Dict[str, dict]) -> dict:
    """Drop path over base + auxiliary depth, the heads taking the largest rates.

    With rates linspace(0, r, L + D) over the L base blocks and D head blocks
    (as in the HSSL code), the base keeps the first L rates (its own
    ``drop_path_rate`` becomes r (L - 1) / (L + D - 1)) and a head the last D.
    Applies to heads whose config sets no ``drop_path_rate``; D is the
    deepest such head's depth. Changes ``aux_cfgs`` in place and returns the
    backbone config to build.

    Only for a ViT base model (a sequence of L equal blocks with one rate
    each) and heads made of blocks (``continues_drop_path``). Any other base
    model (``TimmBackbone``: ResNet, ConvNeXt, Swin spread their own
    ``drop_path_rate`` over stages as timm does) and a parallel network keep
    their configs unchanged: nothing is continued, and a head's drop path is
    its own ``drop_path_rate`` (default 0).
    """
    backbone = copy.deepcopy(backbone)
    rate = backbone.get('drop_path_rate', 0.0)
    layers = backbone_depth(backbone)
    todo = [n for n, cfg in aux_cfgs.items()
            if 'drop_path_rate' not in cfg
            and getattr(registered_class(cfg), 'continues_drop_path', False)]
    if not rate or not layers or not todo:
        return backbone
    for name in todo:
        depth = head_depth(aux_cfgs[name])
        aux_cfgs[name]['drop_path_rate'] = torch.linspace(0, rate, layers + depth).tolist()[layers:]
    deepest = max(head_depth(aux_cfgs[n]) for n in todo)
    backbone['drop_path_rate'] = rate * (layers - 1) / (layers + deepest - 1)
    return backbone


def registered_class(cfg: dict):
    """The class a config builds (None if its type is unknown: the build names it later)."""
    kind = cfg.get('type')
    return MODELS.get(kind) if isinstance(kind, str) else kind


def head_depth(cfg: dict) -> int:
    """Blocks of a head config (a ``WidthAdaptedHead`` counts its inner head's)."""
    if isinstance(cfg.get('head'), dict):
        return head_depth(cfg['head'])
    return cfg.get('depth', 3)


def backbone_depth(backbone: dict) -> Optional[int]:
    """Number of blocks of a ViT config (None if its arch is unknown, or the
    base model is not one of hssl's ViTs: a timm model has stages, not a list
    of equal blocks)."""
    cls = registered_class(backbone)
    if not (isinstance(cls, type) and issubclass(cls, ViT)):
        return None
    arch = backbone.get('arch', 'small')
    return (ARCHS.get(arch) or {}).get('num_layers') if isinstance(arch, str) else arch.get('num_layers')
