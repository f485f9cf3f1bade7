"""Image-folder datasets: a user's own images, and the embedded digits set.

Both build on mmpretrain's :class:`~mmpretrain.datasets.CustomDataset`
(folder scanning, ``metainfo['classes']``, ``get_gt_labels()``); what is added
here is checking the folder up front, so that a wrong path or an empty folder
fails with a clear message when the dataset is built, not mid-training.
"""
import os
import os.path as osp
from typing import Optional, Sequence

from mmpretrain.datasets import CustomDataset

from hssl.registry import DATASETS
from hssl.reliability.bad_samples import SkipBadSamples
from .embedded import prepare_digits
from .transforms.multi_crop import build_transforms

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                    '.tiff', '.webp')
DIGITS_SPLITS = ('train', 'test')


@DATASETS.register_module()
class ImageFolder(SkipBadSamples, CustomDataset):
    """Images in class sub-folders (``root/<class>/<image>``) or a flat folder.

    With ``with_label=True`` each sub-folder of ``data_root`` is a class
    (sorted by name; images may sit at any depth below it); with
    ``with_label=False`` every image below ``data_root`` is a sample without
    a label (e.g. for self-supervised pre-training).

    Args:
        data_root: the image folder.
        pipeline: transform configs or callables applied to each sample.
        with_label: whether sub-folders name classes.
        extensions: accepted file extensions (case-insensitive).
        max_bad_samples: unreadable images skipped with a warning during
            training before it stops with an error (0: none, None: no limit;
            see :mod:`hssl.reliability.bad_samples`).
        label_fraction: keep a seeded, class-balanced fraction of the
            labelled images (semi-supervised linear probing, Tab. X; see
            :mod:`hssl.evaluation.label_fraction`); None keeps all.
        label_seed: the seed that draws that subset.
        **kwargs: passed to :class:`~mmpretrain.datasets.CustomDataset`
            (``metainfo``, ``lazy_init``, ``test_mode``, ...).

    Raises:
        FileNotFoundError: ``data_root`` is not a directory.
        ValueError: no file with an accepted extension was found.
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence = (),
                 with_label: bool = True,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 max_bad_samples: Optional[int] = 100,
                 label_fraction: Optional[float] = None,
                 label_seed: int = 0,
                 **kwargs):
        self.max_bad_samples = max_bad_samples
        if label_fraction is not None and not with_label:
            raise ValueError('ImageFolder: label_fraction needs with_label=True (class sub-folders)')
        self.label_fraction, self.label_seed = label_fraction, label_seed
        if not data_root:
            raise ValueError('ImageFolder: data_root must be a non-empty path')
        data_root = osp.abspath(osp.expanduser(str(data_root)))
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'ImageFolder: image folder {data_root!r} does not exist '
                'or is not a directory')
        super().__init__(
            data_root=data_root,
            pipeline=build_transforms(pipeline),
            with_label=with_label,
            extensions=tuple(extensions),
            **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        if self.label_fraction is None:
            return data_list
        from hssl.evaluation.label_fraction import balanced_subset
        keep = balanced_subset([d['gt_label'] for d in data_list], self.label_fraction,
                               self.label_seed)
        return [data_list[i] for i in keep]

    def _find_samples(self):
        """Scan the folder as CustomDataset does, with clearer errors."""
        root = osp.normpath(self.img_prefix)  # data_root (+ data_prefix)
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'ImageFolder: image folder {root!r} does not exist '
                'or is not a directory')
        accepted = ', '.join(sorted(self.extensions))
        if self.with_label:
            has_dirs = any(e.is_dir() for e in os.scandir(root))
            if not has_dirs:
                raise ValueError(
                    f'ImageFolder: {root!r} has no class sub-folders; with '
                    'with_label=True images must be in <root>/<class>/ '
                    '(use with_label=False for a flat folder of unlabeled '
                    f'images). Accepted extensions: {accepted}')
        try:
            return super()._find_samples()
        except RuntimeError as e:
            if 'Found 0 files' not in str(e):
                raise
            where = 'its class sub-folders' if self.with_label else 'it'
            raise ValueError(
                f'ImageFolder: no images found in {root!r} (searched {where} '
                f'recursively). Accepted extensions: {accepted}') from None


@DATASETS.register_module()
class EmbeddedDigits(ImageFolder):
    """scikit-learn's handwritten digits as 32x32 RGB images (no download).

    Written once by :func:`~hssl.datasets.embedded.prepare_digits` under
    ``root`` (default ``$HSSL_DATA_ROOT`` or ``~/.cache/hssl/data``); 1437
    train / 360 test images, classes ``'0'`` .. ``'9'``.

    Args:
        split: ``'train'`` or ``'test'``.
        root: parent directory of the ``digits`` folder.
        pipeline: transform configs or callables applied to each sample.
        **kwargs: passed to :class:`ImageFolder`.
    """

    def __init__(self,
                 split: str = 'train',
                 root: Optional[str] = None,
                 pipeline: Sequence = (),
                 **kwargs):
        if split not in DIGITS_SPLITS:
            raise ValueError(
                f'EmbeddedDigits: split must be one of {DIGITS_SPLITS}, '
                f'got {split!r}')
        self.split = split
        digits_dir = prepare_digits(root)
        super().__init__(
            data_root=osp.join(digits_dir, split), pipeline=pipeline, **kwargs)
