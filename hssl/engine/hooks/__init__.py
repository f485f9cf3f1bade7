from .discrepancy import DiscrepancyHook
from .ema_teacher import EMATeacherHook
from .freeze_last_layer import FreezeLastLayerHook
from .knn_eval import KNNEvalHook
from .mask_start import MaskStartHook
from .teacher_temp import TeacherTempHook
# the crash-safety hooks live with the rest of it, in hssl.reliability
from hssl.reliability.bad_samples import BadSampleCountHook
from hssl.reliability.nonfinite_loss import NonFiniteLossHook

__all__ = ['BadSampleCountHook', 'DiscrepancyHook', 'EMATeacherHook',
           'FreezeLastLayerHook', 'KNNEvalHook', 'MaskStartHook', 'NonFiniteLossHook', 'TeacherTempHook']
