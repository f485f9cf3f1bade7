# Runtime shared by every hssl config.
default_scope = 'hssl'
runner_type = 'HSSLRunner'  # strict, explained checkpoint loading

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # docs/reliability.md: skip a step with a NaN/inf loss, stop after 10 in a row
    nonfinite=dict(type='NonFiniteLossHook', max_consecutive=10),
    bad_samples=dict(type='BadSampleCountHook'),  # unreadable images skipped, in the log
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # Without CUDA, HSSLRunner (hssl/engine/runner.py) uses gloo instead of nccl and
    # writes gloo into the config it logs and dumps to the work dir.
    # A rank waits at most `timeout` seconds for the others at a collective
    # (all-reduce, barrier), then fails instead of hanging (docs/reliability.md).
    dist_cfg=dict(backend='nccl', timeout=1800),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
