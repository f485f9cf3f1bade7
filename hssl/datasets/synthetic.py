"""Photograph-like test images: smooth colour fields with detail at several
scales and a few sharp-edged shapes, for benchmarks and tests that need
realistic JPEG sizes and statistics without a data set (the embedded digits
are 32 px grey images; real photographs cannot ship with the package).
"""
import os.path as osp
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw


def synthetic_photo(size: Tuple[int, int] = (500, 375), seed: int = 0) -> Image.Image:
    """One RGB image of ``size`` (W, H): noise octaves of 1/4 to 1/64 of the
    image (coarse ones strong, fine ones weak, as in natural images) in a
    random colour basis, plus 6 random ellipses and rectangles."""
    rng = np.random.default_rng(seed)
    w, h = size
    field = np.zeros((h, w, 3), np.float32)
    for cells, weight in ((4, 1.0), (12, 0.5), (40, 0.25), (w // 4, 0.12)):
        small = rng.standard_normal((max(2, cells * h // w), cells, 3)).astype(np.float32)
        layers = [np.asarray(Image.fromarray(small[..., c]).resize((w, h), Image.BICUBIC))
                  for c in range(3)]
        field += weight * np.stack(layers, -1)
    basis = rng.standard_normal((3, 3)).astype(np.float32) * 0.5 + np.eye(3, dtype=np.float32)
    field = field @ basis
    field = (field - field.mean((0, 1))) / (field.std((0, 1)) + 1e-6)
    mean = rng.uniform(70, 170, 3)
    img = Image.fromarray(np.clip(mean + 45 * field, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        x1, y1 = x0 + rng.integers(w // 20, w // 3), y0 + rng.integers(h // 20, h // 3)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return img


def write_synthetic_jpegs(folder: str, count: int, size: Tuple[int, int] = (500, 375),
                          quality: int = 90, seed: int = 0) -> List[str]:
    """``count`` :func:`synthetic_photo` JPEGs (``quality``) in ``folder``."""
    paths = []
    for i in range(count):
        path = osp.join(folder, f'{i:05d}.jpg')
        synthetic_photo(size, seed + i).save(path, quality=quality)
        paths.append(path)
    return paths
