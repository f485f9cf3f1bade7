from .base import SelfSupervisedAlgorithm
from .dino import DINO
from .ibot import IBOT

__all__ = ['SelfSupervisedAlgorithm', 'DINO', 'IBOT']
