"""Optimiser wrappers with DINO / iBOT's per-tensor gradient clipping.

mmengine's ``clip_grad=dict(max_norm=c)`` clips the norm of *all* gradients
together (``torch.nn.utils.clip_grad_norm_``): one factor for every tensor.
DINO and iBOT (``utils.clip_gradients``) clip each parameter tensor on its own:

    for every parameter p with a gradient g:
        coef = c / (||g||_2 + 1e-6);  if coef < 1: g <- coef * g

``clip_grad=dict(type='per_tensor', max_norm=c)`` selects that rule; ``'norm'``
and ``'value'`` stay mmengine's. The wrappers keep mmengine's names
(``OptimWrapper``, ``AmpOptimWrapper``), so configs and ``--amp`` are
unchanged; with AMP the gradients are unscaled before clipping, as in DINO.
The logged ``train/grad_norm`` is the total norm before clipping.
"""
from typing import Iterable

import torch
from mmengine.optim import AmpOptimWrapper as _AmpOptimWrapper
from mmengine.optim import OptimWrapper as _OptimWrapper
from torch import Tensor

from hssl.registry import OPTIM_WRAPPERS

CLIP_TYPES = ('norm', 'value', 'per_tensor')


@torch.no_grad()
def clip_grad_per_tensor_(parameters: Iterable[Tensor], max_norm: float,
                          eps: float = 1e-6) -> Tensor:
    """Scale each gradient whose L2 norm exceeds ``max_norm`` down to it (DINO's
    ``clip_gradients``); returns the total norm of the gradients before clipping."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([n.to(grads[0].device) for n in torch._foreach_norm(grads)])
    coefs = (max_norm / (norms + eps)).clamp(max=1.0)  # x * 1.0 is exact: others untouched
    torch._foreach_mul_(grads, [c.to(g.dtype) for c, g in zip(coefs.unbind(), grads)])
    return norms.double().pow(2).sum().sqrt()


class PerTensorClipMixin:
    """Adds ``clip_grad=dict(type='per_tensor', max_norm=...)`` to an mmengine wrapper."""

    def __init__(self, *args, clip_grad=None, **kwargs):
        per_tensor = isinstance(clip_grad, dict) and clip_grad.get('type') == 'per_tensor'
        if isinstance(clip_grad, dict) and clip_grad.get('type', 'norm') not in CLIP_TYPES:
            raise ValueError(f'optim_wrapper.clip_grad.type: "{clip_grad["type"]}" is not one '
                             f'of {list(CLIP_TYPES)}')
        if per_tensor:
            clip_grad = {k: v for k, v in clip_grad.items() if k != 'type'}
            unknown = set(clip_grad) - {'max_norm'}
            if unknown or 'max_norm' not in clip_grad:
                raise ValueError('optim_wrapper.clip_grad with type="per_tensor" takes exactly '
                                 f'one option, max_norm; got {sorted(clip_grad)}')
            clip_grad = dict(clip_grad, type='norm')  # validated by mmengine, replaced below
        super().__init__(*args, clip_grad=clip_grad, **kwargs)
        if per_tensor:
            self.clip_func = clip_grad_per_tensor_
            self.grad_name = 'grad_norm'


@OPTIM_WRAPPERS.register_module()
class OptimWrapper(PerTensorClipMixin, _OptimWrapper):
    """mmengine's ``OptimWrapper`` with the ``per_tensor`` clip type."""


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(PerTensorClipMixin, _AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` with the ``per_tensor`` clip type."""
