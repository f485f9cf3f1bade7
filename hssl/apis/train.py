"""Build the training runner from a config, the way tools/train.py does."""
import warnings

import torch
from mmengine.config import Config

from hssl.registry import RUNNERS


def apply_amp(cfg: Config) -> None:
    """Mixed precision: bf16 where the GPU supports it, fp16 otherwise.

    mmengine's AmpOptimWrapper needs an accelerator; on a CPU-only machine
    training stays in fp32 (with a warning).
    """
    if not torch.cuda.is_available():
        warnings.warn('--amp: no CUDA device, training in fp32')
        return
    wrapper = cfg.optim_wrapper
    if wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        return
    wrapper.type = 'AmpOptimWrapper'
    wrapper.dtype = 'bfloat16' if torch.cuda.is_bf16_supported() else 'float16'
    if wrapper.dtype == 'float16':
        wrapper.loss_scale = 'dynamic'


def build_runner(cfg: Config, amp: bool = False, auto_scale_lr: bool = False,
                 verbose: bool = False):
    """The config's runner. ``verbose``: mmengine's full console output (environment,
    config, hook order, per-parameter lines); else those go to the log file only."""
    if verbose:
        cfg.verbose = True
    if amp:
        apply_amp(cfg)
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr: the config has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    cfg.setdefault('runner_type', 'HSSLRunner')
    return RUNNERS.build(cfg)
