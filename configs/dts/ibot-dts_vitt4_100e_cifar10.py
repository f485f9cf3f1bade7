# iBOT ViT-T/4 on CIFAR-10 + deep-to-shallow supervision (DTS, Tab. XIX): the
# CIFAR-10 baseline configs/ibot/ibot_vitt4_100e_cifar10.py with the cls tokens of
# blocks 0..10 (shared final norm, one projection head each) learning the
# teacher's final cls target, weight ramped by cosine from 0 to r = 1 (r / 11
# per layer). The hooks keep the baseline's order (tools/benchmarks/
# cifar10_study.sh sets custom_hooks.0-2 by index), DTS's ramp comes last.
_base_ = '../ibot/ibot_vitt4_100e_cifar10.py'
model = dict(network=dict(intermediate=dict(layers=None, weight=1.0)))
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.996, end_momentum=1.0),
    dict(type='TeacherTempHook', warmup_temp=0.04, temp=0.07, warmup_epochs=30,
         patch_start_epoch=0),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='MaskStartHook', start_epoch=0),
    dict(type='DeepToShallowHook'),
]
