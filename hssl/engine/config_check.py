"""Config validation when the runner is built: a misspelt key fails, never silently.

mmengine passes unknown top-level keys through untouched (a misspelt
``train_dataloder`` is ignored, and the run trains with the inherited
``train_dataloader``) and reports a misspelt option of a component as
``TypeError: __init__() got an unexpected keyword argument``, naming a class
of the inheritance chain, after part of the model is built.
:func:`check_config` runs first (``HSSLRunner.from_cfg``) and raises
:class:`ConfigError` with ``<where>: <Class> has no option "<key>". Did you
mean "<close key>"? Its options: ...``.

Top-level keys pass when they are

* keys that mmengine's Runner or Config reads (``model``, ``train_dataloader``,
  ``custom_imports``, ``find_unused_parameters``, ...) or hssl reads
  (``knn_train_dataset``, ``knn_test_dataset``, ``knn_pipeline``, ``verbose``);
* variables of the config files: a name that the config or one of its
  ``_base_`` files uses (``train_pipeline``, ``max_epochs``, ``base_lr``
  ... referred to by other entries, or as ``_base_.name``);
* a user's own: names that start with ``_`` (as mmengine's ``_base_``).

Options are checked for hssl's components (the algorithm, its network,
data sets and transforms, including nested pipelines) and for every hook and
loop with a fixed set of options. Components with ``**kwargs`` (open-ended)
and other libraries' models and transforms are left to their own checks.
"""
import ast
import difflib
import inspect
import os.path as osp
import re
from typing import Iterable, List, Optional, Set

from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from hssl.models.builder import accepted_keys, unknown_option
from hssl.registry import DATASETS, HOOKS, LOOPS, MODELS, TRANSFORMS

__all__ = ['ConfigError', 'check_cfg_options', 'check_config', 'config_variables',
           'known_top_level_keys']


class ConfigError(ValueError):
    """A config key or option that nothing reads."""


# Top-level keys that mmengine reads outside Runner.__init__'s arguments
# (Runner.from_cfg / wrap_model / train, Config.fromfile, FlexibleRunner).
MMENGINE_EXTRA_KEYS = {'work_dir', 'runner_type', 'custom_imports', 'model_wrapper_cfg',
                       'find_unused_parameters', 'sync_bn', 'activation_checkpointing',
                       'efficient_conv_bn_eval', 'compile', 'strategy', 'gpu_ids', 'tta_model',
                       'tta_pipeline'}
# Top-level keys that hssl reads (tools/knn_eval.py, hssl/evaluation/features.py).
HSSL_KEYS = {'knn_train_dataset', 'knn_test_dataset', 'knn_pipeline',
             'verbose'}  # train.py --verbose: mmengine's full console output
# DataLoader options that mmengine's Runner.build_dataloader takes besides torch's.
MMENGINE_DATALOADER_KEYS = {'disable_subprocess_warning'}


def known_top_level_keys() -> Set[str]:
    params = inspect.signature(Runner.__init__).parameters
    # ('cfg' is the whole config, not a key of it)
    return {p for p in params if p not in ('self', 'cfg')} | MMENGINE_EXTRA_KEYS | HSSL_KEYS


def _unknown(where: str, owner: str, key: str, options: Iterable[str], extra: str = '') -> ConfigError:
    return ConfigError(unknown_option(where, owner, key, options) + extra)


def check_keys(where: str, owner: str, cfg: dict, options: Iterable[str],
               ignore: Iterable[str] = ('type',)) -> None:
    options = set(options)
    for key in cfg:
        if key not in options and key not in ignore:
            raise _unknown(where, owner, key, options)


# 1. top-level keys and the config files' own variables ------------------------------------

def _config_files(filename: str, seen: Set[str]) -> Iterable[str]:
    """``filename`` and its ``_base_`` files, recursively; raises if one cannot be read."""
    filename = osp.abspath(filename)
    if filename in seen:
        return
    seen.add(filename)
    yield filename
    with open(filename, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '_base_'
                                                for t in node.targets):
            bases = ast.literal_eval(node.value)
            for base in [bases] if isinstance(bases, str) else bases:
                if '::' in base:
                    from mmengine.config import Config
                    path, _ = Config._get_cfg_path(base, filename)
                else:
                    path = osp.join(osp.dirname(filename), base)
                yield from _config_files(path, seen)


def config_variables(filename: str) -> Optional[Set[str]]:
    """Names that ``filename`` or its ``_base_`` files use as variables: read as a
    name (``max_epochs`` in ``train_cfg = dict(max_epochs=max_epochs)``) or as
    ``_base_.name`` / ``{{_base_.name}}``. None if a file cannot be parsed (or
    is a lazy-import config), which turns the top-level check off."""
    used: Set[str] = set()
    try:
        for path in _config_files(filename, set()):
            if not path.endswith('.py'):
                return None
            with open(path, encoding='utf-8') as f:
                text = f.read()
            if 'read_base' in text:  # mmengine's pure-Python (lazy import) configs
                return None
            used.update(re.findall(r'_base_\.(\w+)', text))
            tree = ast.parse(re.sub(r'\{\{\s*_base_\.[\w.\[\]\'"]+\s*\}\}', 'None', text))
            used.update(n.id for n in ast.walk(tree)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    except (OSError, SyntaxError, ValueError, TypeError):
        return None
    return used


def check_top_level(cfg) -> None:
    filename = getattr(cfg, 'filename', None)
    variables = config_variables(filename) if filename else set()
    if variables is None:
        return
    known = known_top_level_keys()
    for key in cfg.keys():
        if key.startswith('_') or key in known or key in variables:
            continue
        name = osp.basename(filename) if filename else 'the config'
        raise _unknown('', f'config {name}', key, known,
                       extra='. A key of your own: start its name with "_" (e.g. "_' + key + '")')


def check_cfg_options(options: Optional[dict], cfg) -> None:
    """Refuse ``--cfg-options`` that set a variable of the config files.

    ``max_epochs=5`` changes nothing: the files were read, and the entries
    that used ``max_epochs`` hold its old value.
    """
    filename = getattr(cfg, 'filename', None)
    variables = (config_variables(filename) if filename else None) or set()
    known = known_top_level_keys()
    for key in options or {}:
        top = key.split('.')[0]
        if top in variables and top not in known and not top.startswith('_'):
            raise ConfigError(
                f'--cfg-options {key}={options[key]}: "{top}" is a variable of the config '
                'files, used when they were read; setting it now changes nothing. Set the '
                'entries that use it instead')


# 2. components --------------------------------------------------------------------------

def _registered_names(registry) -> List[str]:
    names = []
    while registry is not None:
        names += list(registry.module_dict)
        registry = registry.parent
    return names


def _resolve(registry, type_, where: str):
    if not isinstance(type_, str):
        return type_
    cls = registry.get(type_)
    if cls is None:
        close = difflib.get_close_matches(type_.split('.')[-1], _registered_names(registry), n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ''
        raise ConfigError(f'{where}: type "{type_}" is not registered (registry '
                          f'"{registry.name}").{hint}')
    return cls


def check_component(registry, cfg, where: str, hssl_only: bool = True,
                    ignore: Iterable[str] = ('type',), default_type=None,
                    injected: Iterable[str] = ()):
    """Check ``cfg``'s keys against its class's options; return the class (or None)."""
    if not isinstance(cfg, dict):
        return None
    type_ = cfg.get('type', default_type)
    if type_ is None:
        return None
    cls = _resolve(registry, type_, where)
    if not inspect.isclass(cls) or (hssl_only and not cls.__module__.startswith('hssl.')):
        return cls
    options = accepted_keys(cls)
    if options is not None:
        options = [o for o in options if o not in injected]  # given by the runner, not the config
        for key in cfg:
            if key not in options and key not in ignore:
                raise _unknown(where, cls.__name__, key, options)
    return cls


def _check_pipeline(pipeline, where: str) -> None:
    if not isinstance(pipeline, (list, tuple)):
        return
    for i, transform in enumerate(pipeline):
        if isinstance(transform, dict) and 'type' in transform:
            check_component(TRANSFORMS, transform, f'{where}[{i}]')
            _check_nested_pipelines(transform, f'{where}[{i}]')


def _check_nested_pipelines(cfg, where: str) -> None:
    """Transforms inside a transform's options (e.g. MultiCrop's groups[i].pipeline)."""
    for key, value in cfg.items():
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, dict) and 'type' in v for v in value):
                _check_pipeline(value, f'{where}.{key}')
            else:
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        _check_nested_pipelines(item, f'{where}.{key}[{i}]')
        elif isinstance(value, dict) and 'type' not in value:
            _check_nested_pipelines(value, f'{where}.{key}')


def check_dataset(cfg, where: str) -> None:
    if not isinstance(cfg, dict):
        return
    check_component(DATASETS, cfg, where)
    _check_pipeline(cfg.get('pipeline'), f'{where}.pipeline')
    if isinstance(cfg.get('dataset'), dict):  # dataset wrappers
        check_dataset(cfg['dataset'], f'{where}.dataset')


def check_dataloader(cfg, where: str) -> None:
    if not isinstance(cfg, dict):
        return
    from torch.utils.data import DataLoader
    options = [p for p in inspect.signature(DataLoader.__init__).parameters if p != 'self']
    check_keys(where, 'the data loader', cfg, list(options) + sorted(MMENGINE_DATALOADER_KEYS),
               ignore=())
    check_dataset(cfg.get('dataset'), f'{where}.dataset')


def check_loop(cfg, where: str, default_type: str) -> None:
    if not isinstance(cfg, dict) or not cfg:
        return
    if 'type' not in cfg and 'by_epoch' in cfg:
        default_type = 'EpochBasedTrainLoop' if cfg['by_epoch'] else 'IterBasedTrainLoop'
    check_component(LOOPS, cfg, where, hssl_only=False, default_type=default_type,
                    ignore=('type', 'by_epoch'), injected=('runner', 'dataloader', 'evaluator'))


def check_hooks(cfg) -> None:
    hooks = cfg.get('default_hooks') or {}
    for name, hook in hooks.items() if isinstance(hooks, dict) else ():
        check_component(HOOKS, hook, f'default_hooks.{name}', hssl_only=False,
                        ignore=('type', 'priority'))
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        check_component(HOOKS, hook, f'custom_hooks[{i}]', hssl_only=False,
                        ignore=('type', 'priority'))


def check_model(cfg) -> None:
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    check_component(MODELS, model, 'model')
    # the network's own parts (backbone, heads, projectors, losses) are checked by
    # hssl.models.builder.build_component when the model is built
    check_component(MODELS, model.get('network'), 'model.network')


def check_config(cfg) -> None:
    """Raise :class:`ConfigError` for the first key or option that nothing reads."""
    check_top_level(cfg)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope') or 'hssl'):
        check_model(cfg)
        for split in ('train', 'val', 'test'):
            check_dataloader(cfg.get(f'{split}_dataloader'), f'{split}_dataloader')
        for key in ('knn_train_dataset', 'knn_test_dataset'):
            check_dataset(cfg.get(key), key)
        _check_pipeline(cfg.get('knn_pipeline'), 'knn_pipeline')
        check_loop(cfg.get('train_cfg'), 'train_cfg', 'EpochBasedTrainLoop')
        check_loop(cfg.get('val_cfg'), 'val_cfg', 'ValLoop')
        check_loop(cfg.get('test_cfg'), 'test_cfg', 'TestLoop')
        check_hooks(cfg)
