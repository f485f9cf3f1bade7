from .bad_samples import BadSampleCountHook
from .discrepancy import DiscrepancyHook
from .ema_teacher import EMATeacherHook
from .freeze_last_layer import FreezeLastLayerHook
from .knn_eval import KNNEvalHook
from .mask_start import MaskStartHook
from .nonfinite import NonFiniteLossHook
from .teacher_temp import TeacherTempHook

__all__ = ['BadSampleCountHook', 'DiscrepancyHook', 'EMATeacherHook',
           'FreezeLastLayerHook', 'KNNEvalHook', 'MaskStartHook', 'NonFiniteLossHook', 'TeacherTempHook']
