"""hssl's registries: children of mmpretrain's, scope ``hssl``.

Every registry the project uses is mirrored here with ``locations`` so that a
config with ``default_scope = 'hssl'`` builds hssl modules without manual
imports, and still finds mmpretrain's and mmengine's modules through the parent
chain (hssl -> mmpretrain -> mmengine).
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(name, parent, *locations):
    return Registry(name, parent=parent, scope='hssl', locations=list(locations))


RUNNERS = _child('runner', mmpretrain_registry.RUNNERS, 'hssl.engine')
RUNNER_CONSTRUCTORS = _child('runner constructor', mmpretrain_registry.RUNNER_CONSTRUCTORS, 'hssl.engine')
LOOPS = _child('loop', mmpretrain_registry.LOOPS, 'hssl.engine')
HOOKS = _child('hook', mmpretrain_registry.HOOKS, 'hssl.engine.hooks')
LOG_PROCESSORS = _child('log processor', mmpretrain_registry.LOG_PROCESSORS, 'hssl.engine')
OPTIMIZERS = _child('optimizer', mmpretrain_registry.OPTIMIZERS, 'hssl.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', mmpretrain_registry.OPTIM_WRAPPERS, 'hssl.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, 'hssl.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', mmpretrain_registry.PARAM_SCHEDULERS, 'hssl.engine')
DATASETS = _child('dataset', mmpretrain_registry.DATASETS, 'hssl.datasets')
DATA_SAMPLERS = _child('data sampler', mmpretrain_registry.DATA_SAMPLERS, 'hssl.datasets')
TRANSFORMS = _child('transform', mmpretrain_registry.TRANSFORMS, 'hssl.datasets.transforms')
MODELS = _child('model', mmpretrain_registry.MODELS, 'hssl.models')
MODEL_WRAPPERS = _child('model_wrapper', mmpretrain_registry.MODEL_WRAPPERS, 'hssl.models')
WEIGHT_INITIALIZERS = _child('weight initializer', mmpretrain_registry.WEIGHT_INITIALIZERS, 'hssl.models')
TASK_UTILS = _child('task util', mmpretrain_registry.TASK_UTILS, 'hssl.models')
METRICS = _child('metric', mmpretrain_registry.METRICS, 'hssl.evaluation')
EVALUATORS = _child('evaluator', mmpretrain_registry.EVALUATORS, 'hssl.evaluation')
VISUALIZERS = _child('visualizer', mmpretrain_registry.VISUALIZERS, 'hssl.engine')
VISBACKENDS = _child('vis_backend', mmpretrain_registry.VISBACKENDS, 'hssl.engine')
