from .dino_head import DINOProjectionHead
from .mocov3_head import MoCoV3MLP

__all__ = ['DINOProjectionHead', 'MoCoV3MLP']
