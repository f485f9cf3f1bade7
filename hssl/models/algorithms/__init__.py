from .base import SelfSupervisedAlgorithm
from .dino import DINO

__all__ = ['SelfSupervisedAlgorithm', 'DINO']
