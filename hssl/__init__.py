"""hssl: Heterogeneous Self-Supervised Learning for vision backbones."""
from .utils.checkpoint import allow_mmengine_checkpoints
from .version import __version__

# torch >= 2.6 loads checkpoints with weights_only=True; allow-list exactly the
# types that mmengine's checkpoints hold (see hssl/utils/checkpoint.py).
allow_mmengine_checkpoints()

__all__ = ['__version__']
