"""DINO's colour augmentations on batches of views, with kornia.

The colour half of :class:`~hssl.datasets.transforms.DINOMultiCrop`
(``DataAugmentationDINO`` of facebookresearch/dino), run on float RGB batches
in [0, 1] on the model's device, every random choice drawn per sample:

* colour jitter with p = 0.8: brightness 0.4, contrast 0.4, saturation 0.2,
  hue 0.1 (torchvision's formulas: ``kornia.augmentation.ColorJitter``);
* grayscale with p = 0.2 (ITU-R 601-2 luma, 3 channels kept);
* Gaussian blur, sigma ~ U(0.1, 2.0), with the view's probability (PIL's
  ``GaussianBlur(radius)`` takes the standard deviation as its radius); a
  13-tap kernel (+-3 sigma at sigma = 2) with replicated borders, as PIL;
* solarisation (threshold 128 of 255, i.e. 0.5) with the view's probability.

Differences from the CPU pipeline, by design: values stay float (the CPU
pipeline rounds to uint8 after every step), and the order of the four jitter
steps is drawn once per call (per group of views in a batch) instead of per
image; each image's order is still uniform over the 24 orders.
"""
import math
from typing import List, Sequence, Tuple

import torch
from torch import Tensor, nn

from hssl.datasets.transforms.multi_crop import DINO_GLOBAL_VIEWS, DINO_LOCAL_VIEW
from hssl.registry import MODELS


@MODELS.register_module()
class ViewColorAugment(nn.Module):
    """One view type's colour augmentations (see the module's doc).

    Args:
        jitter_prob, brightness, contrast, saturation, hue: colour jitter.
        gray_prob: probability of grayscale.
        blur_prob, blur_sigma: probability and (min, max) sigma of the blur.
        solarize_prob: probability of solarisation (threshold 0.5).
    Probabilities of 0 leave the step out.
    """

    def __init__(self, jitter_prob: float = 0.8, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.2, hue: float = 0.1, gray_prob: float = 0.2,
                 blur_prob: float = 0.5, blur_sigma: Tuple[float, float] = (0.1, 2.0),
                 solarize_prob: float = 0.0):
        super().__init__()
        import kornia.augmentation as K  # imported here: only the device path needs it
        for name, p in dict(jitter_prob=jitter_prob, gray_prob=gray_prob, blur_prob=blur_prob,
                            solarize_prob=solarize_prob).items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'ViewColorAugment: {name} must be in [0, 1], got {p!r}')
        if not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError(f'ViewColorAugment: blur_sigma must be (min, max) with '
                             f'0 < min <= max, got {blur_sigma!r}')
        self.probs = dict(jitter=jitter_prob, gray=gray_prob, blur=blur_prob,
                          solarize=solarize_prob)
        self.blur_sigma = (float(blur_sigma[0]), float(blur_sigma[1]))
        self.kernel_size = 2 * math.ceil(3 * self.blur_sigma[1]) + 1
        steps = {}
        if jitter_prob > 0:
            steps['jitter'] = K.ColorJitter(brightness, contrast, saturation, hue, p=jitter_prob)
        if gray_prob > 0:
            steps['gray'] = K.RandomGrayscale(p=gray_prob)
        if blur_prob > 0:
            steps['blur'] = K.RandomGaussianBlur(self.kernel_size, self.blur_sigma, p=blur_prob,
                                                 border_type='replicate')
        if solarize_prob > 0:
            steps['solarize'] = K.RandomSolarize(thresholds=0.0, additions=0.0, p=solarize_prob)
        self.steps = nn.ModuleDict(steps)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: (B, 3, H, W) float RGB in [0, 1]; returns the augmented batch."""
        for step in self.steps.values():
            x = step(x)
        return x

    def applied(self) -> dict:
        """Which samples each step changed in the last call: {step: bool (B,)}."""
        return {name: step._params['batch_prob'] > 0.5 for name, step in self.steps.items()
                if getattr(step, '_params', None)}


@MODELS.register_module()
class DINOColorAugment(nn.Module):
    """DINOMultiCrop's colour augmentations for its views, in its order: global
    view 1 (blur p = 1), global view 2 (blur p = 0.1, solarisation p = 0.2),
    then ``local_crops_number`` local views (blur p = 0.5); jitter p = 0.8 and
    grayscale p = 0.2 for all. Views of one kind go through kornia together.

    Args:
        local_crops_number: local views per image (as DINOMultiCrop's).
        num_global: 2 (DINO / iBOT), or fewer to drop global views.
    """

    def __init__(self, local_crops_number: int = 10, num_global: int = 2):
        super().__init__()
        if not isinstance(local_crops_number, int) or local_crops_number < 0:
            raise ValueError('DINOColorAugment: local_crops_number must be an integer >= 0, '
                             f'got {local_crops_number!r}')
        if num_global not in (1, 2):
            raise ValueError(f'DINOColorAugment: num_global must be 1 or 2, got {num_global!r}')
        groups = [(1, probs) for probs in DINO_GLOBAL_VIEWS[:num_global]]
        groups.append((local_crops_number, DINO_LOCAL_VIEW))
        self.nums = [n for n, _ in groups if n > 0]
        self.augments = nn.ModuleList(ViewColorAugment(**kw) for n, kw in groups if n > 0)

    @property
    def num_views(self) -> int:
        return sum(self.nums)

    def forward(self, views: Sequence[Tensor]) -> List[Tensor]:
        if len(views) != self.num_views:
            raise ValueError(f'DINOColorAugment: got {len(views)} views per image, expected '
                             f'{self.num_views} ({" + ".join(map(str, self.nums))}); set its '
                             'local_crops_number to the pipeline\'s')
        out, i = [], 0
        for num, augment in zip(self.nums, self.augments):
            group = views[i:i + num]
            i += num
            if num == 1:
                out.append(augment(group[0]))
            elif len({v.shape for v in group}) == 1:  # one kornia call for the group
                out += list(augment(torch.cat(list(group))).split(group[0].shape[0]))
            else:
                out += [augment(v) for v in group]
        return out
