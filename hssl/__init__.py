"""hssl: Heterogeneous Self-Supervised Learning for vision backbones."""
import warnings

# mmcv-lite has no compiled ops; mmpretrain imports mmcv's transformer module, which
# warns that one of them (unused by hssl) is missing. Only that warning is hidden.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``',
                        category=UserWarning)

from .reliability.allow_list import allow_mmengine_checkpoints  # noqa: E402
from .version import __version__  # noqa: E402

# torch >= 2.6 loads checkpoints with weights_only=True; allow-list exactly the
# types that mmengine's checkpoints hold (see hssl/reliability/allow_list.py).
allow_mmengine_checkpoints()

__all__ = ['__version__']
