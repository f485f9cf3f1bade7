from .checkpoint import allow_mmengine_checkpoints, safe_load
from .setup_env import register_all_modules

__all__ = ['allow_mmengine_checkpoints', 'register_all_modules', 'safe_load']
