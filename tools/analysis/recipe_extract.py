"""hssl's side of docs/user_guides/recipes.md: hyper-parameters read from resolved configs.

``extract(cfg, gpus)`` returns {key: value} for the keys of :data:`PARAMS` that
apply to the config's algorithm (a key whose value is None does not apply).
Values are plain Python (numbers, tuples, bools, short strings) so that they
compare with the official values of ``recipe_official.py``. A setting that is
absent from a config takes the default of the class that the config names
(read from its constructor signature), so a changed default shows up too.

A config form the extractors do not know (a new clipping mode, a second
learning-rate warm-up) raises :class:`RecipeFormError` instead of being
reported wrongly; teach the extractor the new form.
"""
import inspect
from typing import Any, Dict, List, Optional, Tuple

from hssl.registry import HOOKS, MODELS, TRANSFORMS


class RecipeFormError(ValueError):
    """A config setting in a form that the extractors cannot summarise."""


# key -> row label, in the order of the tables
PARAMS: Dict[str, str] = {
    'optimizer': 'optimiser (betas)',
    'epochs': 'epochs',
    'total_batch': 'total batch (GPUs x per GPU)',
    'base_lr': 'base lr (per 256 images)',
    'peak_lr': 'peak lr at that batch',
    'lr_rule': 'lr scaling with the batch',
    'warmup_epochs': 'warm-up epochs',
    'warmup_start': 'warm-up start lr',
    'min_lr': 'final (min) lr',
    'weight_decay': 'weight decay start -> end',
    'wd_exclusions': 'weight decay on biases / 1-D params',
    'clip_max': 'gradient clipping threshold',
    'clip_rule': 'gradient clipping rule',
    'precision': 'precision',
    'teacher_momentum': 'teacher momentum (cosine to end)',
    'teacher_temp': 'teacher temperature cls (start, end, warm-up epochs)',
    'teacher_patch_temp': 'teacher temperature patch (start, end, warm-up epochs)',
    'mask_start_epoch': 'masked modelling start epoch',
    'out_dim': 'projection output dim (cls)',
    'patch_out_dim': 'projection output dim (patch)',
    'head_mlp': 'projection MLP (layers, hidden, bottleneck)',
    'norm_last_layer': 'norm_last_layer (weight_g frozen)',
    'freeze_last_layer': 'last layer frozen (epochs)',
    'projector': 'projector (layers, hidden, out, last BN)',
    'predictor': 'predictor (layers, hidden, out, last BN)',
    'temperature': 'InfoNCE temperature (loss x 2T)',
    'stop_grad_conv1': 'frozen random patch embedding',
    'drop_path': 'drop path (stochastic depth)',
    'global_crops': 'global crops (number x size, scale)',
    'local_crops': 'local crops (number x size, scale)',
    'mask': 'mask',
    'norm_pix': 'normalised pixel targets',
    'decoder': 'decoder (width, depth, heads)',
    'lambdas': 'loss weights lambda1 (cls), lambda2 (patch)',
    'aux_head': 'HSSL auxiliary head (depth, first shortcut)',
    'hssl_weighting': 'HSSL: the predictions of one target (base, aux) are',
    'share_last_layer': 'HSSL: base and aux share the last layer',
    'patch_level_hssl': 'HSSL at patch level too',
}


def _signature_default(cls, name: str) -> Any:
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        param = inspect.signature(init).parameters.get(name)
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    raise RecipeFormError(f'{cls.__name__} has no default for "{name}"')


def arg(cfg: Optional[dict], name: str, registry=MODELS) -> Any:
    """``cfg[name]``, else the default of the class ``cfg['type']`` names."""
    if cfg is None:
        return None
    if name in cfg:
        return cfg[name]
    cls = registry.get(cfg['type'])
    if cls is None:
        raise RecipeFormError(f'no registered class "{cfg["type"]}"')
    return _signature_default(cls, name)


def hooks(cfg, type_name: str) -> List[dict]:
    return [h for h in cfg.get('custom_hooks', []) if h.get('type') == type_name]


def _one_hook(cfg, type_name: str) -> Optional[dict]:
    found = hooks(cfg, type_name)
    if len(found) > 1:
        raise RecipeFormError(f'{len(found)} {type_name}s in custom_hooks')
    return found[0] if found else None


def _transforms(cfg) -> List[dict]:
    return list(cfg.train_dataloader.dataset.pipeline)


def _find(items: List[dict], type_name: str) -> Optional[dict]:
    found = [t for t in items if t.get('type') == type_name]
    return found[0] if found else None


def _pair(value) -> Tuple[float, float]:
    return tuple(float(v) for v in value)


# ---------------------------------------------------------------- schedule
def _lr_schedule(cfg, peak: float) -> Tuple[int, float, float]:
    """(warm-up epochs, warm-up start lr, final lr) of the lr schedulers.

    Two forms: mmengine's LinearLR warm-up + CosineAnnealingLR, or one
    WarmupCosineLR (``warmup`` epochs from ``start_factor`` x lr, then cosine
    to ``eta_min``; DINO's utils.cosine_scheduler)."""
    lr = [s for s in cfg.get('param_scheduler', []) if s.get('param_name', 'lr') == 'lr']
    for s in lr:
        if not s.get('by_epoch', True):
            raise RecipeFormError(f"{s['type']} counts iterations; the table reads epochs")
    types = [s['type'] for s in lr]
    if types == ['WarmupCosineLR']:
        s = lr[0]
        warmup = int(s.get('warmup', 0))
        final = float(s['eta_min']) if s.get('eta_min') is not None \
            else float(s['eta_min_ratio']) * peak
        return warmup, float(s.get('start_factor', 0.0)) * peak if warmup else peak, final
    warmup = [s for s in lr if s['type'] == 'LinearLR']
    decay = [s for s in lr if s['type'] == 'CosineAnnealingLR']
    if len(warmup) > 1 or len(decay) != 1 or len(warmup) + len(decay) != len(lr):
        raise RecipeFormError('lr schedule not summarised: ' + ', '.join(types))
    d = decay[0]
    final = float(d['eta_min_ratio']) * peak if 'eta_min_ratio' in d else float(d.get('eta_min', 0))
    if not warmup:
        return 0, peak, final
    return int(warmup[0]['end']), float(warmup[0]['start_factor']) * peak, final


def _peak_lr(cfg, total_batch: int) -> float:
    lr = float(cfg.optim_wrapper.optimizer.lr)
    scale = cfg.get('auto_scale_lr', {})
    if scale.get('enable', False):
        lr *= total_batch / scale['base_batch_size']
    return lr


def _lr_rule(cfg) -> str:
    scale = cfg.get('auto_scale_lr')
    if not scale:
        return 'none'
    when = 'always' if scale.get('enable', False) else 'only with --auto-scale-lr'
    return f"x total / {scale['base_batch_size']}, {when}"


def _weight_decay(cfg) -> Tuple[float, float]:
    wd = float(cfg.optim_wrapper.optimizer.get('weight_decay', 0.0))
    sched = [s for s in cfg.get('param_scheduler', []) if s.get('param_name') == 'weight_decay']
    if not sched:
        return wd, wd
    if len(sched) > 1 or sched[0]['type'] not in ('CosineAnnealingParamScheduler',
                                                   'WarmupCosineParamScheduler'):
        raise RecipeFormError('weight decay schedule not summarised: '
                              + ', '.join(s['type'] for s in sched))
    if sched[0].get('warmup', 0):
        raise RecipeFormError('weight decay schedule with a warm-up not summarised')
    s = sched[0]
    end = wd * s['eta_min_ratio'] if 'eta_min_ratio' in s else float(s['eta_min'])
    return wd, end


def _wd_exclusions(cfg) -> str:
    p = cfg.optim_wrapper.get('paramwise_cfg', {})
    if all(p.get(k) == 0.0 for k in ('bias_decay_mult', 'norm_decay_mult', 'flat_decay_mult')):
        return 'none on biases and 1-D params'
    if not p:
        return 'on every parameter'
    raise RecipeFormError(f'paramwise_cfg {dict(p)} not summarised')


# Clipping forms: mmengine's clip_grad (clip_grad_norm_ over all parameters:
# one total norm) and a per-tensor rule (DINO's utils.clip_gradients). A form
# naming "tensor" anywhere (a key, a value, the optim wrapper type) is read as
# per tensor; any other unknown key raises.
_TOTAL_NORM_KEYS = {'max_norm', 'norm_type', 'type', 'error_if_nonfinite'}


def _clip(cfg) -> Tuple[Optional[float], str]:
    ow = cfg.optim_wrapper
    clip = ow.get('clip_grad')
    if not clip:
        return None, 'none'
    text = ' '.join([str(ow.get('type', ''))] + [f'{k} {v}' for k, v in clip.items()]).lower()
    if 'tensor' in text:
        return float(clip.get('max_norm', clip.get('max_value', 0.0))), 'per tensor'
    if clip.get('type', 'norm') == 'norm' and set(clip) <= _TOTAL_NORM_KEYS:
        return float(clip['max_norm']), 'one total norm over all parameters'
    raise RecipeFormError(f'optim_wrapper.clip_grad {dict(clip)} not summarised')


def _precision(cfg) -> str:
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        return 'mixed (AMP)'
    return 'fp32 (mixed with --amp)'


# ---------------------------------------------------------------- teacher
def _temp_triple(warmup, temp, epochs) -> Tuple[float, float, int]:
    if int(epochs) == 0 or float(warmup) == float(temp):
        return float(temp), float(temp), 0
    return float(warmup), float(temp), int(epochs)


def _teacher_temps(cfg) -> Tuple[Optional[tuple], Optional[tuple]]:
    found = hooks(cfg, 'TeacherTempHook')
    if not found:
        return None, None
    cls_hooks = [h for h in found if 'patch' not in h.get('attribute', 'teacher_temp')]
    patch_hooks = [h for h in found if 'patch' in h.get('attribute', 'teacher_temp')]
    if len(cls_hooks) != 1 or len(patch_hooks) > 1:
        raise RecipeFormError('TeacherTempHooks not summarised: '
                              + ', '.join(h.get('attribute', 'teacher_temp') for h in found))
    h = cls_hooks[0]
    get = lambda hook, k: arg(hook, k, HOOKS)  # noqa: E731
    cls_t = _temp_triple(get(h, 'warmup_temp'), get(h, 'temp'), get(h, 'warmup_epochs'))
    if patch_hooks:
        p = patch_hooks[0]
        patch_t = _temp_triple(get(p, 'warmup_temp'), get(p, 'temp'), get(p, 'warmup_epochs'))
    else:  # one hook sets every module's teacher_temp, patch criteria included
        patch_t = _temp_triple(h.get('patch_warmup_temp', get(h, 'warmup_temp')),
                               h.get('patch_temp', get(h, 'temp')),
                               h.get('patch_warmup_epochs', get(h, 'warmup_epochs')))
    return cls_t, patch_t


# ---------------------------------------------------------------- views
def _crop_groups(cfg) -> Tuple[Optional[tuple], Optional[tuple], Optional[dict]]:
    """(global, local, mask transform) from the train pipeline."""
    items = _transforms(cfg)
    mc = _find(items, 'DINOMultiCrop')
    if mc is not None:
        a = lambda k: arg(mc, k, TRANSFORMS)  # noqa: E731
        glob = (2, int(a('global_crops_size')), _pair(a('global_crops_scale')))
        n_local = int(a('local_crops_number'))
        local = ((n_local, int(a('local_crops_size')), _pair(a('local_crops_scale')))
                 if n_local else 'none')
        mask = _find(list(mc.get('global_extra_pipeline', [])), 'BlockMaskGenerator')
        return glob, local, mask
    rrc = _find(items, 'RandomResizedCrop')
    if rrc is not None:
        return (1, int(rrc['scale']), _pair(rrc['crop_ratio_range'])), 'none', None
    multi = _find(items, 'MultiCrop')
    if multi is not None:  # generic groups (the digits recipes): first group global
        groups = []
        for g in multi['groups']:
            crop = _find(list(g['pipeline']), 'RandomResizedCrop')
            groups.append((int(g['num']), int(crop['scale']), _pair(crop['crop_ratio_range'])))
        return groups[0], (groups[1] if len(groups) > 1 else 'none'), None
    raise RecipeFormError('train pipeline has no DINOMultiCrop, MultiCrop or RandomResizedCrop')


def _mask(cfg, mask_tf) -> Optional[tuple]:
    model = cfg.model
    if model['type'] == 'MAE':
        return ('random', float(arg(model, 'mask_ratio')))
    if mask_tf is None:
        return None
    a = lambda k: arg(mask_tf, k, TRANSFORMS)  # noqa: E731
    ratio, var = a('pred_ratio'), a('pred_ratio_var')
    ratio = _pair(ratio) if isinstance(ratio, (list, tuple)) else (float(ratio),)
    var = _pair(var) if isinstance(var, (list, tuple)) else (float(var),)
    return (a('pred_shape'), ratio, var)


# ---------------------------------------------------------------- HSSL
_WEIGHTING_WORDS = ('weighting', 'reduction', 'average', 'hssl_weight')
_MEAN_WORDS = {'mean', 'average', 'avg', 'per_target', 'per-target'}


def _weighting_value(name: str, value) -> str:
    if isinstance(value, bool):
        return 'mean' if value == any(w in name for w in ('average', 'mean')) else 'sum'
    if str(value).lower() in _MEAN_WORDS:
        return 'mean'
    if str(value).lower() == 'sum':
        return 'sum'
    raise RecipeFormError(f'HSSL weighting {name}={value!r} not summarised')


def _hssl_weighting(model: dict) -> str:
    """How the predictions of one target add up: 'sum' or 'mean'.

    An option of the algorithm or network whose name says weighting /
    reduction / average (config value or default) decides; without one the
    mechanism's built-in rule holds: HeterogeneousNetwork's pairs weigh every
    prediction of a target 1 (one head), i.e. L(base) + L(aux)."""
    for cfg in (model, model['network']):
        cls = MODELS.get(cfg['type'])
        names = [n for klass in inspect.getmro(cls) if '__init__' in klass.__dict__
                 for n in inspect.signature(klass.__dict__['__init__']).parameters]
        for name in dict.fromkeys(names):
            if any(w in name for w in _WEIGHTING_WORDS):
                return _weighting_value(name, arg(cfg, name))
    return 'sum'


def _aux_head(net: dict) -> Optional[str]:
    aux = net.get('auxiliary')
    if not aux:
        return None
    heads = aux['heads'] if aux['type'] == 'ConcatHeads' else [aux]
    parts = []
    for h in heads:
        shortcut = 'kept' if arg(h, 'first_shortcut') else 'removed'
        parts.append(f"{h['type']} depth {arg(h, 'depth')}, first shortcut {shortcut}")
    return ' + '.join(parts)


def _mlp(cfg: dict) -> tuple:
    last_bn = arg(cfg, 'with_last_bn')
    if last_bn:
        last_bn = 'affine-free' if not arg(cfg, 'with_last_bn_affine') else 'affine'
    return (int(arg(cfg, 'num_layers')), int(arg(cfg, 'hid_channels')),
            int(arg(cfg, 'out_channels')), last_bn or 'none')


# ---------------------------------------------------------------- all
def extract(cfg, gpus: int) -> Dict[str, Any]:
    """Hyper-parameters of one resolved config trained on ``gpus`` GPUs."""
    model, net = cfg.model, cfg.model['network']
    kind = model['type']
    opt = cfg.optim_wrapper.optimizer
    per_gpu = int(cfg.train_dataloader.batch_size)
    accumulate = int(cfg.optim_wrapper.get('accumulative_counts', 1))
    total = gpus * per_gpu * accumulate  # the effective batch of one optimiser step
    peak = _peak_lr(cfg, total)
    warmup_epochs, warmup_start, min_lr = _lr_schedule(cfg, peak)
    epochs = int(cfg.train_cfg.max_epochs)
    clip_max, clip_rule = _clip(cfg)
    glob, local, mask_tf = _crop_groups(cfg)
    cls_t, patch_t = _teacher_temps(cfg)
    ema = _one_hook(cfg, 'EMATeacherHook')
    freeze = _one_hook(cfg, 'FreezeLastLayerHook')
    mask_start = _one_hook(cfg, 'MaskStartHook')
    proj = net.get('projector')
    hssl = bool(net.get('auxiliary'))
    dino_like = kind in ('DINO', 'IBOT')
    v: Dict[str, Any] = {
        'optimizer': (opt['type'], _pair(opt.get('betas', (0.9, 0.999)))),
        'epochs': epochs,
        'total_batch': (gpus, per_gpu, total) if accumulate == 1 else
                       (gpus, per_gpu, total, accumulate),
        'base_lr': peak * 256 / total,
        'peak_lr': peak,
        'lr_rule': _lr_rule(cfg),
        'warmup_epochs': warmup_epochs,
        'warmup_start': warmup_start,
        'min_lr': min_lr,
        'weight_decay': _weight_decay(cfg),
        'wd_exclusions': _wd_exclusions(cfg),
        'clip_max': clip_max,
        'clip_rule': clip_rule,
        'precision': _precision(cfg),
        'teacher_momentum': ((float(arg(ema, 'momentum', HOOKS)),
                              float(arg(ema, 'end_momentum', HOOKS))) if ema else None),
        'teacher_temp': cls_t,
        'teacher_patch_temp': patch_t if kind == 'IBOT' else None,
        'mask_start_epoch': (int(arg(mask_start, 'start_epoch', HOOKS)) if mask_start else 0)
        if kind == 'IBOT' else None,
        'drop_path': float(arg(net['backbone'], 'drop_path_rate')),
        'global_crops': glob,
        'local_crops': local,
        'mask': _mask(cfg, mask_tf),
        'aux_head': _aux_head(net),
        'hssl_weighting': (_hssl_weighting(model)
                           if hssl and kind in ('DINO', 'IBOT', 'MoCoV3') else None),
        'share_last_layer': bool(arg(net, 'share_last_layer')) if hssl and dino_like else None,
    }
    if dino_like:
        patch_out = arg(proj, 'patch_out_channels') if kind == 'IBOT' else None
        v.update({
            'out_dim': int(arg(proj, 'out_channels')),
            'patch_out_dim': (('shared last layer' if patch_out is None else int(patch_out))
                              if kind == 'IBOT' else None),
            'head_mlp': (int(arg(proj, 'num_layers')), int(arg(proj, 'hidden_channels')),
                         int(arg(proj, 'bottleneck_channels')),
                         'BN' if arg(proj, 'use_bn') else 'no BN'),
            'norm_last_layer': bool(arg(proj, 'norm_last_layer')),
            'freeze_last_layer': int(arg(freeze, 'epochs', HOOKS)) if freeze else 0,
        })
    if kind == 'IBOT':
        v['lambdas'] = (float(arg(model, 'lambda1')), float(arg(model, 'lambda2')))
        v['patch_level_hssl'] = bool(arg(model, 'patch_level_hssl')) if hssl else None
    if kind == 'MoCoV3':
        v.update({
            'projector': _mlp(proj),
            'predictor': _mlp(model['predictor']),
            'temperature': (float(arg(model['loss'], 'temperature')),
                            bool(arg(model['loss'], 'scale_by_2t'))),
            'stop_grad_conv1': bool(arg(net['backbone'], 'stop_grad_conv1')),
        })
    if kind == 'MAE':
        dec = model['decoder']
        v.update({
            'norm_pix': bool(arg(model['pixel_head'], 'norm_pix')),
            'decoder': (int(arg(dec, 'decoder_embed_dims' if 'decoder_embed_dims' in dec
                                else 'decoder_embed_dim')),
                        int(arg(dec, 'decoder_depth')), int(arg(dec, 'decoder_num_heads'))),
        })
    return {k: v.get(k) for k in PARAMS}
