"""Optimizer constructor that leaves frozen sub-modules out.

mmengine's default constructor adds every parameter to the optimizer and, with
a ``paramwise_cfg``, logs one warning per frozen parameter: for an EMA teacher
that is hundreds of lines per run. This one skips sub-modules none of whose
parameters require gradients (the teacher); everything else is mmengine's.
"""
from mmengine.optim import DefaultOptimWrapperConstructor

from hssl.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):

    def add_params(self, params, module, prefix='', is_dcn_module=None):
        if prefix and not any(p.requires_grad for p in module.parameters()):
            return
        super().add_params(params, module, prefix, is_dcn_module)
