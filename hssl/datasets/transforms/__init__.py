"""hssl data transforms (registered in ``hssl.registry.TRANSFORMS``).

Importing this package also imports mmpretrain's transforms, so that view
pipelines built in the ``hssl`` scope find mmpretrain's and mmcv's transforms.
"""
import mmpretrain.datasets.transforms  # noqa: F401  (registers mmpretrain's)

from .color import ColorJitter, adjust_hue_bgr
from .cutout import RandomCutout
from .loading import ImageLoadError, LoadImage
from .geometric_crops import (DINOGeometricMultiCrop, device_augment_pipeline,
                              device_augment_preprocessor, draft_scale,
                              use_device_augmentation)
from .masking import BlockMaskGenerator
from .multi_crop import (DINOMultiCrop, MultiCrop, build_transforms,
                         dino_view_pipeline, gather_view_keys)
from .view_types import MultiTaskMultiCrop, ViewType, cutout_view_pipeline

__all__ = ['BlockMaskGenerator', 'ColorJitter', 'adjust_hue_bgr', 'ImageLoadError', 'LoadImage',
           'MultiCrop', 'DINOMultiCrop', 'dino_view_pipeline', 'build_transforms',
           'gather_view_keys', 'DINOGeometricMultiCrop', 'draft_scale', 'device_augment_pipeline',
           'device_augment_preprocessor', 'use_device_augmentation',
           'RandomCutout', 'MultiTaskMultiCrop', 'ViewType', 'cutout_view_pipeline']
