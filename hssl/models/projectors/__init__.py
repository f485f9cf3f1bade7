from .dino import DINOProjectionHead
from .mocov3 import MoCoV3MLP

__all__ = ['DINOProjectionHead', 'MoCoV3MLP']
