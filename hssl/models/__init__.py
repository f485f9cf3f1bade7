import mmpretrain.models  # noqa: F401  (mmpretrain's modules, found from the hssl scope)

from .algorithms import *  # noqa: F401,F403
from .auxiliary import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .projectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
