# The checkpoint functions moved to hssl.reliability; docs/user_guides/base_models.md
# showed `from hssl.utils import safe_load`, which keeps working.
from hssl.reliability import (CheckpointError, allow_mmengine_checkpoints, check_checkpoint_file,
                              load_checkpoint_file, safe_load)
from .setup_env import register_all_modules

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'check_checkpoint_file',
           'load_checkpoint_file', 'register_all_modules', 'safe_load']
