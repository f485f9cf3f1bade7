"""Small image data sets that ship with installed packages (no download).

``prepare_digits`` materialises scikit-learn's bundled handwritten digits
(1797 8x8 grey images, 10 classes) as an image folder, so the ordinary
``ImageFolder`` / ``LoadImageFromFile`` path is exercised end to end by demos
and tests without any network access.
"""
import os
import os.path as osp
import shutil
import tempfile
import uuid
from typing import Optional

import numpy as np

DIGITS_DIRNAME = 'digits'
DIGITS_IMAGE_SIZE = 32
DIGITS_TEST_FRACTION = 0.2
DIGITS_SEED = 0
# Written last inside the temporary directory: its presence in the final
# directory means the data set is complete.
COMPLETE_MARKER = '.complete'


def default_data_root() -> str:
    """``$HSSL_DATA_ROOT`` if set, else ``~/.cache/hssl/data``."""
    root = os.environ.get('HSSL_DATA_ROOT') or osp.join('~', '.cache', 'hssl', 'data')
    return osp.abspath(osp.expanduser(root))


def _is_complete(path: str) -> bool:
    return osp.isfile(osp.join(path, COMPLETE_MARKER))


def _write_digits(out_dir: str) -> None:
    """Write the train/test class folders of the digits set into ``out_dir``."""
    from PIL import Image
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images, labels = digits.images, digits.target
    indices = np.arange(len(labels))
    train_idx, test_idx = train_test_split(
        indices, test_size=DIGITS_TEST_FRACTION, stratify=labels, random_state=DIGITS_SEED)
    for split, split_idx in (('train', train_idx), ('test', test_idx)):
        for cls in range(10):
            os.makedirs(osp.join(out_dir, split, str(cls)), exist_ok=True)
        for i in sorted(split_idx):
            # Pixel values are 0..16; scale to 0..255, upscale, store as RGB.
            grey = np.round(images[i] * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
            img = Image.fromarray(grey).resize(
                (DIGITS_IMAGE_SIZE, DIGITS_IMAGE_SIZE), Image.BICUBIC).convert('RGB')
            img.save(osp.join(out_dir, split, str(int(labels[i])), f'{i:04d}.png'))
    with open(osp.join(out_dir, COMPLETE_MARKER), 'w') as f:
        f.write(f'sklearn digits: {len(train_idx)} train, {len(test_idx)} test\n')


def prepare_digits(root: Optional[str] = None) -> str:
    """Write the digits image folder once and return its path.

    Layout: ``<root>/digits/{train,test}/<0..9>/NNNN.png`` where ``NNNN`` is
    the sample's index in ``sklearn.datasets.load_digits``; images are 32x32
    RGB PNGs; the split is stratified 80/20 with ``random_state=0``.

    Safe to call repeatedly and concurrently: the data is written into a
    temporary sibling directory and moved into place with one ``os.rename``;
    a completed directory (with its marker file) is never rewritten.

    Args:
        root: parent directory; defaults to :func:`default_data_root`.

    Returns:
        The absolute path of ``<root>/digits``.
    """
    root = osp.abspath(osp.expanduser(root)) if root else default_data_root()
    final = osp.join(root, DIGITS_DIRNAME)
    if _is_complete(final):
        return final
    os.makedirs(root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{DIGITS_DIRNAME}.tmp-', dir=root)
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private (0700)
        _write_digits(tmp)
        try:
            os.rename(tmp, final)  # atomic; fails if ``final`` is non-empty
        except OSError:
            if _is_complete(final):  # another process won the race
                return final
            # An incomplete leftover (not made by us): move it aside, retry.
            stale = osp.join(root, f'.{DIGITS_DIRNAME}.stale-{uuid.uuid4().hex}')
            try:
                os.rename(final, stale)
            except FileNotFoundError:
                pass
            else:
                shutil.rmtree(stale, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not _is_complete(final):
                    raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return final
