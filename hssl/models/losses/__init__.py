from .dino_loss import DINOLoss
from .infonce import InfoNCELoss
from .patch_loss import MaskedPatchLoss

__all__ = ['DINOLoss', 'InfoNCELoss', 'MaskedPatchLoss']
