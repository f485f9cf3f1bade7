# mmpretrain's engine and visualisation modules must be imported for lookups
# from the hssl scope to find them (a child registry only searches the parent's
# already-registered modules).
import mmpretrain.engine  # noqa: F401
import mmpretrain.visualization  # noqa: F401

from .hooks import *  # noqa: F401,F403
from .optim_constructor import TrainableOptimWrapperConstructor  # noqa: F401
from .runner import HSSLRunner  # noqa: F401
from .optim_wrapper import AmpOptimWrapper, OptimWrapper  # noqa: F401
from .schedulers import WarmupCosineLR, WarmupCosineParamScheduler  # noqa: F401
# HSSLRunner's default train loop (registered when hssl.engine is imported)
from hssl.reliability.resumable_loop import ResumableEpochBasedTrainLoop  # noqa: F401
