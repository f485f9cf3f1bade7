from .checkpoint import (CheckpointError, allow_mmengine_checkpoints, check_checkpoint_file,
                         load_checkpoint_file, safe_load)
from .setup_env import register_all_modules

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'check_checkpoint_file',
           'load_checkpoint_file', 'register_all_modules', 'safe_load']
