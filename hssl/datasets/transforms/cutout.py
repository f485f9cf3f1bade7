"""Cutout views of multi-task asymmetric Siamese SSL (arXiv 2602.05845).

A cutout view is a global crop in which one random rectangular block covering
20-40% of the crop's area is filled with the data set's mean colour, BEFORE
colour jitter (so the block is jittered with the rest of the view). Place
:class:`RandomCutout` in a view pipeline after the crop (and flip) and before
``ColorJitter``; :func:`cutout_view_pipeline` does so for DINO's view.

mmpretrain's ``Cutout`` cuts a block of fixed shape; here the block's area
fraction is drawn per image.
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from hssl.registry import TRANSFORMS

IMAGENET_MEAN_RGB = (123.675, 116.28, 103.53)


@TRANSFORMS.register_module()
class RandomCutout(BaseTransform):
    """Fill one random block of ``results['img']`` (uint8 HWC) with the mean.

    The block's area is ``a * H * W`` with ``a ~ U(area_range)``, its aspect
    ratio h / w log-uniform in ``aspect_range``, its position uniform over the
    places where it fits (10 tries; then the aspect ratio is clipped so that it
    fits). Adds ``results['cutout_box'] = (top, left, height, width)``.

    Args:
        area_range: (min, max) fraction of the image area, default (0.2, 0.4).
        aspect_range: (min, max) height / width of the block.
        mean: the fill colour in RGB order, pixel units (default ImageNet's;
            the data preprocessor's ``mean``).
        channel_order: order of the image's channels: 'bgr' (mmcv's
            ``LoadImageFromFile`` and hssl's ``LoadImage``) or 'rgb'.
    """

    def __init__(self,
                 area_range: Tuple[float, float] = (0.2, 0.4),
                 aspect_range: Tuple[float, float] = (0.3, 1 / 0.3),
                 mean: Sequence[float] = IMAGENET_MEAN_RGB,
                 channel_order: str = 'bgr'):
        if (len(area_range) != 2 or not 0 < area_range[0] <= area_range[1] <= 1):
            raise ValueError('RandomCutout: area_range must be (min, max) with '
                             f'0 < min <= max <= 1, got {area_range!r}')
        if len(aspect_range) != 2 or not 0 < aspect_range[0] <= aspect_range[1]:
            raise ValueError('RandomCutout: aspect_range must be (min, max) with '
                             f'0 < min <= max, got {aspect_range!r}')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'RandomCutout: channel_order must be "bgr" or "rgb", '
                             f'got {channel_order!r}')
        self.area_range = (float(area_range[0]), float(area_range[1]))
        self.log_aspect = (math.log(aspect_range[0]), math.log(aspect_range[1]))
        mean = [float(m) for m in mean]
        self.fill = np.array(mean[::-1] if channel_order == 'bgr' and len(mean) == 3 else mean)

    def sample_box(self, height: int, width: int,
                   rng: Optional[np.random.Generator] = None) -> Tuple[int, int, int, int]:
        """(top, left, h, w) of a block of the drawn area that fits the image."""
        rng = rng if rng is not None else np.random.default_rng(np.random.randint(2**31))
        area = rng.uniform(*self.area_range) * height * width
        for _ in range(10):
            aspect = math.exp(rng.uniform(*self.log_aspect))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if 0 < h <= height and 0 < w <= width:
                break
        else:  # clip the aspect ratio: as close to the area as the image allows
            h = min(height, max(1, int(round(math.sqrt(area)))))
            w = min(width, max(1, int(round(area / h))))
        top = int(rng.integers(0, height - h + 1))
        left = int(rng.integers(0, width - w + 1))
        return top, left, h, w

    def transform(self, results: dict) -> dict:
        img = results['img']
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise ValueError('RandomCutout: results["img"] must be one HW or HWC array, got '
                             f'{type(img).__name__} {getattr(img, "shape", "")}; put it in '
                             'a view pipeline, after the crop')
        channels = 1 if img.ndim == 2 else img.shape[2]
        if channels != len(self.fill):
            raise ValueError(f'RandomCutout: the image has {channels} channels but mean has '
                             f'{len(self.fill)} values')
        top, left, h, w = self.sample_box(*img.shape[:2])
        img = img.copy()
        fill = np.round(self.fill).astype(img.dtype) if img.dtype == np.uint8 else self.fill
        img[top:top + h, left:left + w] = fill if img.ndim == 3 else fill[0]
        results['img'] = img
        results['cutout_box'] = (top, left, h, w)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(area_range={self.area_range}, '
                f'fill={self.fill.tolist()})')
