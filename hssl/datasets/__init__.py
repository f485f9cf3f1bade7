"""hssl datasets and transforms; importing this package registers them all."""
from .embedded import default_data_root, prepare_digits
from .image_folder import EmbeddedDigits, ImageFolder
from .transforms import (DINOMultiCrop, ImageLoadError, LoadImage, MultiCrop,
                         dino_view_pipeline)

__all__ = ['prepare_digits', 'default_data_root', 'ImageFolder',
           'EmbeddedDigits', 'LoadImage', 'ImageLoadError', 'MultiCrop',
           'DINOMultiCrop', 'dino_view_pipeline']
