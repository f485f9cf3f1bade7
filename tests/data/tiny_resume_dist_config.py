# tiny_digits_dist_config.py (2 processes, 2 iterations per epoch) with a checkpoint
# every iteration and the fault-injection hooks of tests/engine/test_reliability.py.
_base_ = './tiny_digits_dist_config.py'
custom_imports = dict(imports=['tests.data.rank_weights_hook', 'tests.data.fault_hooks'],
                      allow_failed_imports=False)
randomness = dict(seed=3, deterministic=True)
env_cfg = dict(dist_cfg=dict(timeout=120))  # a rank waits at most 2 minutes for the others
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=1, max_keep_ckpts=2))
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.99),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.04),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='KillAtIterHook'),
    dict(type='DumpFinalWeightsHook'),
]
