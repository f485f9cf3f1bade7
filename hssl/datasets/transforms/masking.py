"""iBOT's per-view patch masks (block-wise as BEiT, or random).

Put it in a view pipeline after the crop (e.g. ``DINOMultiCrop``'s
``global_extra_pipeline``); it writes ``results['patch_mask']``, a bool array
(h, w) with h = H / patch_size, w = W / patch_size. Pack it with
``PackInputs(algorithm_keys=['patch_mask'])``.

Ratio per view (iBOT ``get_pred_ratio``): for each entry m_i +- v_i of
``pred_ratio`` / ``pred_ratio_var`` draw r_i ~ U(m_i - v_i, m_i + v_i) (r_i =
m_i when v_i = 0), then pick one r_i at random. With ``[0, 0.3]`` /
``[0, 0.2]`` half the views are unmasked and the others mask 10-50 %.
"""
import math
import random
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from hssl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BlockMaskGenerator(BaseTransform):
    """Args:
        patch_size: the ViT's patch size.
        pred_ratio, pred_ratio_var: masking ratio means and half-widths.
        pred_shape: ``'block'`` (BEiT block-wise masking) or ``'rand'``.
        min_aspect: blocks have aspect ratios in [min_aspect, 1 / min_aspect].
    """

    def __init__(self,
                 patch_size: int = 16,
                 pred_ratio: Union[float, Sequence[float]] = (0.0, 0.3),
                 pred_ratio_var: Union[float, Sequence[float]] = (0.0, 0.2),
                 pred_shape: str = 'block',
                 min_aspect: float = 0.3):
        ratios = [pred_ratio] if isinstance(pred_ratio, (int, float)) else list(pred_ratio)
        spreads = [pred_ratio_var] if isinstance(pred_ratio_var, (int, float)) else list(pred_ratio_var)
        if len(ratios) != len(spreads):
            raise ValueError(f'BlockMaskGenerator: pred_ratio {ratios} and pred_ratio_var '
                             f'{spreads} need the same length')
        for m, v in zip(ratios, spreads):
            if not (0 <= m - v and m + v <= 1 and v >= 0):
                raise ValueError(f'BlockMaskGenerator: pred_ratio {m} +- {v} must stay within '
                                 '[0, 1] (a mask ratio above 1 is impossible)')
        if pred_shape not in ('block', 'rand'):
            raise ValueError(f'BlockMaskGenerator: pred_shape must be "block" or "rand", '
                             f'got {pred_shape!r}')
        if not 0 < min_aspect <= 1:
            raise ValueError(f'BlockMaskGenerator: min_aspect must be in (0, 1], got {min_aspect}')
        self.patch_size = patch_size
        self.ratios, self.spreads = ratios, spreads
        self.pred_shape = pred_shape
        self.log_aspect = (math.log(min_aspect), -math.log(min_aspect))

    def draw_ratio(self) -> float:
        return random.choice([random.uniform(m - v, m + v) if v > 0 else m
                              for m, v in zip(self.ratios, self.spreads)])

    def block_mask(self, h: int, w: int, target: float) -> np.ndarray:
        """BEiT: add random rectangles until ``target`` patches are masked."""
        mask = np.zeros((h, w), dtype=bool)
        count = 0
        while count < target:
            budget = target - count
            added = 0
            for _ in range(10):
                low = (min(h, w) // 3) ** 2
                area = random.uniform(low, budget)
                aspect = math.exp(random.uniform(*self.log_aspect))
                bh = int(round(math.sqrt(area * aspect)))
                bw = int(round(math.sqrt(area / aspect)))
                if bw < w and bh < h:
                    top, left = random.randint(0, h - bh), random.randint(0, w - bw)
                    block = mask[top:top + bh, left:left + bw]
                    new = bh * bw - int(block.sum())
                    if 0 < new <= budget:
                        block[...] = True
                        added = new
                if added > 0:
                    break
            if added == 0:
                break
            count += added
        return mask

    def transform(self, results: dict) -> dict:
        H, W = results['img'].shape[:2]
        if H % self.patch_size or W % self.patch_size:
            raise ValueError(f'BlockMaskGenerator: a {H}x{W} view is not a multiple of '
                             f'patch_size={self.patch_size}')
        h, w = H // self.patch_size, W // self.patch_size
        target = self.draw_ratio() * h * w
        if self.pred_shape == 'block':
            mask = self.block_mask(h, w, target)
        else:
            mask = np.zeros(h * w, dtype=bool)
            mask[:int(target)] = True
            np.random.shuffle(mask)
            mask = mask.reshape(h, w)
        results['patch_mask'] = mask
        return results
