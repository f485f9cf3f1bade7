from .mae_vit import MAEViT
from .mocov3_vit import MoCoV3ViT
from .timm_backbone import TimmBackbone
from .vit import ARCHS, BackboneOutput, ViT

__all__ = ['ARCHS', 'BackboneOutput', 'ViT', 'MoCoV3ViT', 'MAEViT', 'TimmBackbone']
