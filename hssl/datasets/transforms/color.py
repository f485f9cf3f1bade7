"""``ColorJitter`` whose hue jitter works with NumPy >= 2.

mmpretrain's ``ColorJitter`` calls ``mmcv.adjust_hue``, which shifts the hue
channel by ``np.uint8(hue_factor * 255)``; NumPy 2 raises ``OverflowError``
for a negative ``hue_factor``, so any jitter with ``hue > 0`` crashes about
half the time. This subclass, registered under the same name in the ``hssl``
scope (so configs keep writing ``type='ColorJitter'``), does the hue shift
itself with modular arithmetic, as torchvision's PIL path and NumPy 1 did.
"""
import warnings

import cv2
import numpy as np
from mmpretrain.datasets.transforms import ColorJitter as _MMPretrainColorJitter
from PIL import Image

import mmcv
from hssl.registry import TRANSFORMS

# mmcv.adjust_color warns on every pillow call that only ``alpha`` is used;
# ColorJitter only passes ``alpha``, so the warning is noise.
warnings.filterwarnings('ignore', message="Only use 'alpha' for pillow backend",
                        category=UserWarning)


def adjust_hue_bgr(img: np.ndarray, hue_factor: float, backend: str = 'pillow') -> np.ndarray:
    """Rotate the hue of a uint8 HWC BGR image by ``hue_factor`` in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor must be in [-0.5, 0.5], got {hue_factor}')
    if img.ndim == 2 or img.shape[-1] == 1:
        return img  # no hue in a grey image
    shift = int(hue_factor * 255)  # same shift as mmcv / torchvision, mod 256
    if backend == 'pillow':
        h, s, v = Image.fromarray(np.ascontiguousarray(img[..., ::-1])).convert('HSV').split()
        h = Image.fromarray(((np.asarray(h, dtype=np.int16) + shift) % 256).astype(np.uint8))
        rgb = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.asarray(rgb, dtype=img.dtype)[..., ::-1].copy()
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + shift) % 256).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


@TRANSFORMS.register_module(name='ColorJitter')
class ColorJitter(_MMPretrainColorJitter):
    """mmpretrain's ``ColorJitter`` (same arguments) with a NumPy-2-safe hue."""

    def transform(self, results: dict) -> dict:
        img = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:  # random order, as torchvision's ColorJitter
            if index == 0 and brightness is not None:
                img = mmcv.adjust_brightness(img, brightness, backend=self.backend)
            elif index == 1 and contrast is not None:
                img = mmcv.adjust_contrast(img, contrast, backend=self.backend)
            elif index == 2 and saturation is not None:
                img = mmcv.adjust_color(img, alpha=saturation, backend=self.backend)
            elif index == 3 and hue is not None:
                img = adjust_hue_bgr(img, hue, backend=self.backend)
        results['img'] = img
        return results
