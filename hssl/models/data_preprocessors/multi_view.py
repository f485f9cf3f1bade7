"""A data preprocessor that runs the views' colour augmentations on the device.

With :class:`~hssl.datasets.transforms.DINOGeometricMultiCrop` in the data
pipeline, the data-loader workers send uint8 crops; this preprocessor moves
them to the device, converts BGR to RGB (``to_rgb``), applies ``augment``
(e.g. :class:`DINOColorAugment`) to the training batches and normalises with
``mean`` / ``std`` as mmpretrain's ``SelfSupDataPreprocessor`` does.
Evaluation batches (``training=False``, e.g. k-NN feature extraction) are
only normalised.
"""
from typing import Optional

from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor

from hssl.registry import MODELS


@MODELS.register_module()
class MultiViewAugmentPreprocessor(SelfSupDataPreprocessor):
    """``SelfSupDataPreprocessor`` (same arguments) plus

    Args:
        augment: config of the batch augmentation module (a list of view
            batches in, the same out; float RGB in [0, 1]), e.g.
            ``dict(type='DINOColorAugment', local_crops_number=10)``.
    """

    def __init__(self, augment: dict, mean=None, std=None, to_rgb: bool = False,
                 non_blocking: Optional[bool] = False, **kwargs):
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, non_blocking=non_blocking, **kwargs)
        if not isinstance(augment, dict) or 'type' not in augment:
            raise ValueError('MultiViewAugmentPreprocessor: augment must be a config dict with '
                             f"a 'type', e.g. dict(type='DINOColorAugment'), got {augment!r}")
        self.augment = MODELS.build(augment)

    def forward(self, data: dict, training: bool = False) -> dict:
        if not training:
            return super().forward(data, training)
        data = self.cast_data(data)  # to the device, still uint8
        views = data['inputs']
        if not isinstance(views, (list, tuple)):
            raise ValueError('MultiViewAugmentPreprocessor: training inputs must be a list of '
                             f'views (a multi-crop pipeline), got {type(views).__name__}')
        if self._channel_conversion:
            views = [v[:, [2, 1, 0]] for v in views]
        views = self.augment([v.float().div_(255) for v in views])
        if self._enable_normalize:  # mean / std are in pixel units
            views = [(v * 255 - self.mean) / self.std for v in views]
        else:
            views = [v * 255 for v in views]
        return {'inputs': views, 'data_samples': data['data_samples']}
