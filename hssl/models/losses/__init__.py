from .dino_loss import DINOLoss
from .patch_loss import MaskedPatchLoss

__all__ = ['DINOLoss', 'MaskedPatchLoss']
