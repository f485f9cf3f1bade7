# tiny_digits_config.py, deterministic, with a checkpoint every 3 iterations
# (inside the 4-iteration epochs) and the fault-injection hooks of the tests.
_base_ = './tiny_digits_config.py'
custom_imports = dict(imports=['tests.data.fault_hooks'], allow_failed_imports=False)
randomness = dict(seed=3, deterministic=True)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=3, max_keep_ckpts=3))
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.99, end_momentum=1.0),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.04, warmup_epochs=0),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='KillAtIterHook'),
    dict(type='DumpFinalWeightsHook'),
]
