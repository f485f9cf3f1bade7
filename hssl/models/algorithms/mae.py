"""MAE (He et al., 2022) with HSSL (paper App. D).

The encoder (:class:`~hssl.models.backbones.MAEViT`) sees the visible 25 % of
the patches (random masking per image, ``mask_ratio``); each branch of the
network has its own decoder (mmpretrain's ``MAEPretrainDecoder``) that
predicts every patch, and the loss is the mean squared error over the masked
patches. For every pair (target, predictions) of the network:

* the target branch itself reconstructs the normalised RGB pixels of the
  masked patches (per-patch normalised with ``norm_pix``, MAE's default);
* any other branch reconstructs the target branch's tokens at the masked
  positions (stop-gradient, layer-normalised without affine).

Without an auxiliary head that is MAE (the base model reconstructs pixels).
With one (App. D): the auxiliary head reconstructs pixels and the base model
reconstructs the auxiliary head's representations, each through its own
decoder; gradients reach the base model through both (the head sits on it).

The auxiliary head needs the whole grid while the encoder has only the
visible tokens: ``aux_input`` says what the head sees at the masked positions
(``'mask_token'``: one learnt token, as MAE's decoder; ``'zeros'``). The
head's output covers every position, so its decoder takes all of it (no
decoder mask tokens): the head's outputs at the masked positions are then
trained by the pixel loss, which makes them a meaningful target for the base
model. See docs/user_guides/methods.md.
"""
from typing import Dict, List, Union

import torch
from mmengine.model import ModuleDict
from torch import Tensor
from torch.nn import functional as F

from hssl.models.builder import build_component
from hssl.models.networks import LossTerms
from hssl.registry import MODELS
from .base import SelfSupervisedAlgorithm


def random_patch_mask(batch: int, num_patches: int, ratio: float, device=None) -> Tensor:
    """(B, N) bool, True at N - int(N (1 - ratio)) random patches of each image
    (MAE's ``random_masking``: it keeps int(N (1 - ratio)))."""
    rank = torch.rand(batch, num_patches, device=device).argsort(dim=1).argsort(dim=1)
    return rank >= int(num_patches * (1 - ratio))


def restore_ids(mask: Tensor) -> Tensor:
    """Indices that put [visible tokens (ascending), mask tokens] back in patch
    order: the ``ids_restore`` of MAE's decoder, for a (B, N) bool mask."""
    return torch.argsort(torch.argsort(mask.to(torch.int8), dim=1, stable=True), dim=1)


@MODELS.register_module()
class MAE(SelfSupervisedAlgorithm):
    """Args:
        network: student network config with an ``MAEViT`` backbone and
            ``projector=None``.
        decoder: decoder config of the base model (``MAEPretrainDecoder``);
            ``embed_dim`` and, where it predicts features,
            ``predict_feature_dim`` are filled in.
        aux_decoder: decoder config of the auxiliary heads (default: a copy
            of ``decoder``).
        pixel_head: ``MAEPretrainHead`` config (patchify, ``norm_pix``, loss).
        feature_loss: loss config for feature targets (default L2).
        mask_ratio: fraction of masked patches (MAE: 0.75).
        aux_input: what the auxiliary head sees at masked positions:
            ``'mask_token'`` or ``'zeros'`` (sets the backbone's
            ``grid_fill``; ignored without an auxiliary head).
    """
    with_teacher = False

    def __init__(self, network: dict, decoder: dict, pixel_head: dict,
                 aux_decoder: Union[dict, None] = None,
                 feature_loss: dict = dict(type='PixelReconstructionLoss', criterion='L2'),
                 mask_ratio: float = 0.75, aux_input: str = 'mask_token', **kwargs):
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'MAE: mask_ratio must be in (0, 1), got {mask_ratio}')
        if aux_input not in ('mask_token', 'zeros'):
            raise ValueError(f"MAE: aux_input must be 'mask_token' or 'zeros', got {aux_input!r}")
        if network.get('projector') is not None:
            raise ValueError('MAE: set model.network.projector=None (the decoders are '
                             'model.decoder / model.aux_decoder)')
        super().__init__(network, **kwargs)
        student = self.student
        if student.reads_grid:  # the heads see every position of the sparse encoder's grid
            student.backbone.set_grid_fill(aux_input)
        self.mask_ratio = mask_ratio
        self.aux_input = aux_input
        aux_decoder = decoder if aux_decoder is None else aux_decoder
        self.decoders = ModuleDict()
        for target, branch, _ in self.terms(student.pairs):
            cfg = decoder if student.branch_source(branch) == 'backbone' else aux_decoder
            extra = {} if branch == target else {'predict_feature_dim': student.branch_width(target)}
            self.decoders[branch] = build_component(
                cfg, f'model decoder ({branch})', embed_dim=student.branch_width(branch), **extra)
        self.pixel_head = build_component(pixel_head, 'model.pixel_head')
        self.feature_loss = build_component(feature_loss, 'model.feature_loss')

    def terms(self, pairs=None) -> LossTerms:
        """Summed, not averaged (``network.reduction``): the two terms learn
        different targets, the head's features and the pixels
        (docs/user_guides/methods.md)."""
        return self.student.loss_terms(pairs, reduction='sum')

    def loss(self, inputs: Union[Tensor, List[Tensor]], data_samples) -> Dict[str, Tensor]:
        img = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        B, _, H, W = img.shape
        p = self.student.backbone.patch_size
        h, w = H // p, W // p
        mask = random_patch_mask(B, h * w, self.mask_ratio, img.device)
        out = self.student([img], masks=[mask.view(B, h, w)], num_patch_views=1)
        restore = restore_ids(mask)
        full = torch.arange(h * w, device=img.device).expand(B, -1)
        weights = mask.to(img.dtype)
        losses = {}
        for target, branch, weight in self.terms():
            tokens = torch.cat((out[branch].cls.unsqueeze(1), out[branch].patch), dim=1)
            ids = full if out[branch].patch.shape[1] == h * w else restore
            pred = self.decoders[branch](tokens, ids)
            if branch == target:  # pixels
                loss = self.pixel_head.loss(pred, img, weights)
            else:  # the target branch's representations, stop-gradient
                goal = out[target].patch.detach()
                loss = self.feature_loss(pred, F.layer_norm(goal, goal.shape[-1:]), weights)
            losses[f'loss_{branch}'] = weight * loss
        return losses
