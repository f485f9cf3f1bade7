"""iBOT (Zhou et al., 2022) with HSSL at image level or image + patch level.

Student: the global views with their patch masks (a mask token replaces the
masked patch embeddings) and the local views unmasked. Teacher: the global
views unmasked.

* cls (image level): for every pair of the network (Eq. 1), DINO's loss over
  view pairs q != v: 0.5 L(z1^h, z2^b) + 0.5 L(z1^h, z2^h) (the HSSL code's
  average over the branches that learn one target; ``network.reduction``).
* patch (MIM), for v == q over the masked tokens. ``patch_level_hssl=False``
  (the official HSSL code): the target is the teacher's BASE patch output and
  the student's base patches learn it. ``True`` (Tab. XVIII, best): the pairs
  of Eq. 1 at patch level, target the teacher's auxiliary patch output,
  0.5 (patch_b + patch_h).

Loss = lambda1 * cls terms + lambda2 * patch terms. Each target branch has its
own cls and patch centre.
"""
from typing import Dict, List, Optional

import torch
from mmengine.model import ModuleDict
from torch import Tensor

from hssl.models.builder import build_component
from hssl.models.networks import LossTerms, Pair
from hssl.registry import MODELS
from .base import SelfSupervisedAlgorithm
from .dino import check_views, cls_losses


@MODELS.register_module()
class IBOT(SelfSupervisedAlgorithm):
    """Args:
        network: student network config (the backbone needs ``use_mask_token=True``).
        loss: ``DINOLoss`` config for cls tokens.
        patch_loss: ``MaskedPatchLoss`` config for patch tokens.
        num_global_views: the first views of a sample (masked, seen by the teacher).
        lambda1, lambda2: weights of the cls and patch terms.
        patch_level_hssl: HSSL at patch level too (see above).
    """

    def __init__(self, network: dict, loss: dict, patch_loss: dict, num_global_views: int = 2,
                 lambda1: float = 1.0, lambda2: float = 1.0, patch_level_hssl: bool = False,
                 **kwargs):
        super().__init__(network, **kwargs)
        if getattr(self.student.backbone, 'mask_token', None) is None:
            raise ValueError('IBOT: the backbone has no mask token; set '
                             'model.network.backbone.use_mask_token=True')
        self.num_global_views = num_global_views
        self.lambda1, self.lambda2 = lambda1, lambda2
        self.patch_level_hssl = patch_level_hssl
        self.masking = True  # MaskStartHook turns it off before its start epoch
        # patch level: the HSSL pairs only (deep-to-shallow pairs are cls-level);
        # image level only: the base branch of each pair learns the teacher's base patches
        pairs = self.student.hssl_pairs
        self.patch_pairs = pairs if patch_level_hssl else [
            Pair(p.predictions[0], p.predictions[:1], p.weight) for p in pairs]
        self.patch_terms = self.student.loss_terms(self.patch_pairs)
        self.criteria = ModuleDict({t: build_component(loss, 'model.loss')
                                    for t in self.student.targets})
        self.patch_criteria = ModuleDict({t: build_component(patch_loss, 'model.patch_loss')
                                          for t in self.patch_terms.targets})

    def masks_from(self, data_samples, views: List[Tensor]) -> List[Tensor]:
        """Per-global-view bool masks (B, h, w) packed by the data pipeline."""
        G = self.num_global_views
        if not data_samples or 'patch_mask' not in data_samples[0]:
            raise KeyError('IBOT: the data samples carry no "patch_mask": add a '
                           'BlockMaskGenerator to the global views and '
                           "PackInputs(algorithm_keys=['patch_mask'])")
        device = views[0].device
        return [torch.stack([torch.as_tensor(s.patch_mask[v]) for s in data_samples]).to(device)
                for v in range(G)]

    def loss(self, inputs: List[Tensor], data_samples, masks: Optional[List[Tensor]] = None
             ) -> Dict[str, Tensor]:
        G = check_views(self, inputs, self.num_global_views)
        masks = self.masks_from(data_samples, inputs) if masks is None else masks
        if not self.masking:
            masks = [torch.zeros_like(m) for m in masks]
        terms, patch_terms = self.loss_terms(), self.patch_terms
        with torch.no_grad():  # only the cls and patch targets
            teacher = self.teacher(inputs[:G], num_patch_views=G,
                                   patch_branches=patch_terms.targets,
                                   branches=set(terms.targets) | set(patch_terms.targets))
        student = self.student(inputs, masks=list(masks) + [None] * (len(inputs) - G),
                               num_patch_views=G, patch_branches=patch_terms.branches,
                               branches=terms.branches)
        losses = cls_losses(terms, self.criteria, teacher, student, G, len(inputs),
                            scale=self.lambda1, prefix='loss_cls_')
        losses.update(self.patch_losses(patch_terms, teacher, student, masks))
        return losses

    def patch_losses(self, terms: LossTerms, teacher, student, masks) -> Dict[str, Tensor]:
        """iBOT's masked patch loss of every term, centres updated once per target."""
        criteria = self.patch_criteria
        probs = {t: criteria[t].teacher_probs(teacher[t].patch) for t in terms.targets}
        losses = {f'loss_patch_{branch}': self.lambda2 * weight * criteria[target](
            probs[target], student[branch].patch, masks) for target, branch, weight in terms}
        for target in terms.targets:
            criteria[target].update_center(teacher[target].patch)
        return losses
