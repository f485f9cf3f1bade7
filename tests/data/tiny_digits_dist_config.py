# tiny_digits_config.py plus a hook that writes each rank's final weights.
_base_ = './tiny_digits_config.py'
custom_imports = dict(imports=['tests.data.rank_weights_hook'], allow_failed_imports=False)
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.99),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.04),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='DumpRankWeightsHook'),
]
# Without SyncBN (CUDA only) each rank would keep its own batch-norm statistics;
# compare everything, buffers included, with a BN-free head.
model = dict(network=dict(projector=dict(use_bn=False)))
