from .ema_teacher import EMATeacherHook
from .freeze_last_layer import FreezeLastLayerHook
from .mask_start import MaskStartHook
from .teacher_temp import TeacherTempHook

__all__ = ['EMATeacherHook', 'FreezeLastLayerHook', 'MaskStartHook', 'TeacherTempHook']
