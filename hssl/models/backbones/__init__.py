from .vit import ARCHS, BackboneOutput, ViT

__all__ = ['ARCHS', 'BackboneOutput', 'ViT']
