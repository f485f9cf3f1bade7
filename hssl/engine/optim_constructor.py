"""Optimizer constructor that leaves frozen sub-modules out.

mmengine's default constructor adds every parameter to the optimizer and, with
a ``paramwise_cfg``, logs one warning per frozen parameter: for an EMA teacher
that is hundreds of lines per run. This one skips sub-modules none of whose
parameters require gradients (the teacher), and adds a parameter that two
modules share (the HSSL recipes' shared last layer) once: mmengine's
``paramwise_cfg`` walk would add it twice, which torch's optimisers refuse.
Everything else is mmengine's.
"""
from mmengine.optim import DefaultOptimWrapperConstructor

from hssl.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):

    def add_params(self, params, module, prefix='', is_dcn_module=None):
        if prefix and not any(p.requires_grad for p in module.parameters()):
            return
        super().add_params(params, module, prefix, is_dcn_module)
        if not prefix:  # the outermost call: keep the first group of each parameter
            seen, unique = set(), []
            for group in params:
                key = tuple(id(p) for p in group['params'])
                if key not in seen:
                    seen.add(key)
                    unique.append(group)
            params[:] = unique
