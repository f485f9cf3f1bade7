from .dino_head import DINOProjectionHead

__all__ = ['DINOProjectionHead']
