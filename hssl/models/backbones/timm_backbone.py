"""Any timm model as an HSSL base model (Fig. 2: "the base model and the
auxiliary head can be arbitrary architectures"; Tab. I, ResNet base).

:class:`TimmBackbone` builds ``timm.create_model(model_name, num_classes=0,
**kwargs)`` and returns, like hssl's :class:`~hssl.models.backbones.ViT`, a
:class:`BackboneOutput` from one pass (timm's ``forward_intermediates``):

* ``grid``: the last stage's feature map ``(B, C, h, w)`` before the model's
  final norm and pooling: what the auxiliary head takes (for the ViT: the
  last block's tokens before the final norm). ResNet: the 2048-channel map
  (7x7 at 224 px); ConvNeXt: the last stage's output (its norm sits in the
  classifier head, after pooling); Swin: the last stage before ``norm``.
* ``cls``: the pooled final features, what timm's classifier would take
  (``forward_head(pre_logits=True)``: global average pooling, then the
  head's norm where the model has one, e.g. ConvNeXt).
* ``patch``: the final feature map's positions as tokens ``(B, h * w, C)``
  (``forward_features``: after Swin's final norm; ResNet and ConvNeXt have
  none there).

A convolutional model has no mask token (iBOT) and no per-block cls tokens
(deep-to-shallow); asking for them is an error naming the model.
"""
from typing import Optional

import timm
import torch
from mmengine.model import BaseModule
from torch import Tensor

from hssl.registry import MODELS
from .vit import BackboneOutput


@MODELS.register_module()
class TimmBackbone(BaseModule):
    """Args:
        model_name: a timm model name (``'resnet50'``, ``'convnext_tiny'``,
            ``'swin_tiny_patch4_window7_224'``, ...).
        **kwargs: timm's own arguments for that model (``drop_path_rate``,
            ``depths``, ``img_size``, ``strict_img_size=False`` for Swin
            under multi-crop, ...). ``num_classes`` is fixed to 0 (no
            classifier); ``pretrained`` is not accepted (self-supervised
            pre-training starts from scratch; load weights with ``load_from``).
    """
    open_options = True  # **kwargs are timm's: timm names a wrong one

    def __init__(self, model_name: str, init_cfg=None, **kwargs):
        super().__init__(init_cfg=init_cfg)
        for key in ('num_classes', 'pretrained', 'global_pool'):
            if key in kwargs:
                raise ValueError(f'TimmBackbone: "{key}" is fixed by hssl (no classifier, average '
                                 f'pooling, random initialisation); remove it from the config')
        if not timm.is_model(model_name):
            close = timm.list_models(f'*{model_name.split("_")[0]}*')[:8]
            raise ValueError(f'TimmBackbone: timm has no model "{model_name}"'
                             + (f'; similar: {", ".join(close)}' if close else ''))
        self.model_name = model_name
        self.timm_kwargs = dict(kwargs)
        self.model = self._create()
        if not hasattr(self.model, 'forward_intermediates'):
            raise ValueError(f'TimmBackbone: timm\'s "{model_name}" has no forward_intermediates; '
                             'hssl needs it to take the final feature map before the norm')
        width = self.model.num_features
        pooled = getattr(self.model, 'head_hidden_size', width)
        if pooled != width:
            raise ValueError(f'TimmBackbone: "{model_name}" pools to {pooled} channels from a '
                             f'{width}-channel feature map; hssl needs one width for the '
                             'projector and the auxiliary head')
        self.embed_dims = width

    def _create(self):
        return timm.create_model(self.model_name, num_classes=0, **self.timm_kwargs)

    def init_weights(self):
        """timm's own initialisation, drawn from the current random state
        (the network seeds it, so a baseline and its HSSL variant built with
        one seed start from the same base model)."""
        self.model.load_state_dict(self._create().state_dict())
        self._is_init = True

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> BackboneOutput:
        if mask is not None:
            raise RuntimeError(f'TimmBackbone ({self.model_name}): a patch mask was given, but '
                               'a timm model has no mask token (masked image modelling, iBOT, '
                               'needs the ViT base model)')
        final, (grid,) = self.model.forward_intermediates(x, indices=1, norm=False)
        cls = self.model.forward_head(final, pre_logits=True)
        if final.dim() == 3:  # tokens (a timm ViT): drop the cls / register tokens
            patch = final[:, getattr(self.model, 'num_prefix_tokens', 0):]
        elif getattr(self.model, 'output_fmt', 'NCHW') == 'NHWC':  # Swin
            patch = final.flatten(1, 2)
        else:
            patch = final.flatten(2).transpose(1, 2)
        return BackboneOutput(cls=cls, patch=patch, grid=grid)
