from .base import SelfSupervisedAlgorithm
from .dino import DINO
from .ibot import IBOT
from .mae import MAE
from .mocov3 import MoCoV3, MultiTaskMoCoV3
from .siamese import BYOL, Siamese, SimSiam

__all__ = ['SelfSupervisedAlgorithm', 'DINO', 'IBOT', 'MAE', 'MoCoV3', 'MultiTaskMoCoV3',
           'Siamese', 'BYOL', 'SimSiam']
