from .ema_teacher import EMATeacherHook
from .freeze_last_layer import FreezeLastLayerHook
from .teacher_temp import TeacherTempHook

__all__ = ['EMATeacherHook', 'FreezeLastLayerHook', 'TeacherTempHook']
