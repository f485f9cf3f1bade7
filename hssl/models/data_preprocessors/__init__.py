"""Data preprocessors: batch colour augmentation on the device."""
from .color_augment import DINOColorAugment, ViewColorAugment
from .multi_view import MultiViewAugmentPreprocessor

__all__ = ['ViewColorAugment', 'DINOColorAugment', 'MultiViewAugmentPreprocessor']
