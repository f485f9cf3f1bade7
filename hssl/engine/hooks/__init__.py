from .deep_to_shallow import DeepToShallowHook
from .discrepancy import DiscrepancyHook
from .ema_teacher import EMATeacherHook
from .freeze_last_layer import FreezeLastLayerHook
from .knn_eval import KNNEvalHook
from .mask_start import MaskStartHook
from .teacher_temp import TeacherTempHook

__all__ = ['DeepToShallowHook', 'DiscrepancyHook', 'EMATeacherHook', 'FreezeLastLayerHook',
           'KNNEvalHook', 'MaskStartHook', 'TeacherTempHook']
