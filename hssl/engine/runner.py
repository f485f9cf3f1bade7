"""mmengine's Runner with hssl's crash safety, config check and CPU-distributed runs.

Its checkpoint methods call :mod:`hssl.reliability` (docs/reliability.md):
files are checked before unpickling and loaded with ``weights_only=True``,
a checkpoint of another model is refused with what differs, ``--resume``
takes the newest checkpoint that loads or stops, checkpoints are written
atomically, and epoch-based configs run the loop that resumes inside an
epoch. It also runs distributed on CPU-only machines (gloo through
torchrun), which mmengine 0.10 cannot: its ``init_dist`` and DDP wrapping
assume CUDA.
"""
import datetime
import os.path as osp
from collections import OrderedDict

import torch
from mmengine.device import get_device
from mmengine.model import MMDistributedDataParallel
from torch import distributed as dist
from mmengine.runner import Runner
from mmengine.dist import master_only
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.utils.dl_utils import collect_env

from hssl.registry import RUNNERS
from hssl.reliability.atomic_save import save_atomically
from hssl.reliability.checkpoint_files import (check_checkpoint_file, check_local_checkpoints_first,
                                               load_checkpoint_file)
from hssl.reliability.model_mismatch import describe_mismatch
from hssl.reliability.resume_checks import (check_resumable, find_resumable_checkpoint,
                                            nothing_to_resume)
from hssl.utils.console import quiet_console
from hssl.utils.model_wrapper import unwrap
from .config_check import check_config

# local files that mmengine loads (e.g. init_cfg=dict(type='Pretrained')) are checked first
check_local_checkpoints_first()


@RUNNERS.register_module()
class HSSLRunner(Runner):

    @classmethod
    def from_cfg(cls, cfg):
        # unknown keys and options fail here, before anything is built
        # (hssl/engine/config_check.py, docs/reliability.md)
        check_config(cfg)
        return super().from_cfg(cfg)

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        # persistent_workers keeps worker processes between epochs; with
        # num_workers=0 there are none, and torch's DataLoader refuses the
        # combination: turn it off, in one line of the log.
        if isinstance(dataloader, dict) and dataloader.get('persistent_workers') \
                and not dataloader.get('num_workers', 0):
            print_log('num_workers=0: persistent_workers=True has no workers to keep; '
                      'set to False', logger='current')
            dataloader = dict(dataloader, persistent_workers=False)
        return Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    def load_checkpoint(self, filename, map_location='cpu', strict=True,
                        revise_keys=[(r'^module.', '')]):
        # checked before unpickling, loaded with weights_only=True
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        if self._resume and not self._has_loaded:
            check_resumable(checkpoint, filename)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = unwrap(self.model)
        state_dict = checkpoint.get('state_dict', checkpoint)
        if strict:
            problem = describe_mismatch(model, state_dict, filename)
            if problem:
                raise RuntimeError(problem)
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self):
        # --resume auto: the newest checkpoint that loads, not only last_checkpoint's;
        # with none, or with a --resume PATH that cannot be resumed from, the run
        # stops instead of starting over (docs/reliability.md).
        if not self._has_loaded and self._resume:
            if self._load_from is None:
                skipped = []
                self._load_from = find_resumable_checkpoint(self.work_dir, skipped=skipped)
                if self._load_from is None:
                    raise FileNotFoundError(nothing_to_resume(self.work_dir, skipped))
            elif '://' not in str(self._load_from):
                check_checkpoint_file(self._load_from)  # before unpickling; meta: load_checkpoint
        return super().load_or_resume()

    @master_only
    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        # a temporary file, renamed when complete: never a truncated checkpoint
        save_atomically(out_dir, filename,
                        lambda name: super(HSSLRunner, self).save_checkpoint(out_dir, name, *args, **kwargs))

    def scale_lr(self, optim_wrapper, auto_scale_lr=None):
        # DINO, iBOT, MoCo v3, MAE and the HSSL code scale by the effective batch:
        # GPUs x batch per GPU x gradient-accumulation steps (mmengine omits the last).
        accumulate = getattr(optim_wrapper, '_accumulative_counts', 1)
        if auto_scale_lr and auto_scale_lr.get('enable', False) and accumulate > 1:
            auto_scale_lr = dict(auto_scale_lr,
                                 base_batch_size=auto_scale_lr['base_batch_size'] / accumulate)
        return super().scale_lr(optim_wrapper, auto_scale_lr)

    def build_train_loop(self, loop):
        # Epoch-based configs resume inside an epoch, exactly (hssl/reliability/
        # resumable_loop.py, a subclass); 'mmengine.EpochBasedTrainLoop' keeps mmengine's loop.
        if isinstance(loop, dict) and loop.get('type', 'EpochBasedTrainLoop') == 'EpochBasedTrainLoop' \
                and loop.get('by_epoch', True):
            loop = dict({k: v for k, v in loop.items() if k != 'by_epoch'},
                        type='ResumableEpochBasedTrainLoop')
        return super().build_train_loop(loop)

    def build_logger(self, *args, **kwargs):
        # Quiet by default: environment, config, hook order and per-parameter lines go
        # to the log file only (hssl/utils/console.py); `verbose = True` (train.py
        # --verbose) keeps mmengine's console.
        logger = super().build_logger(*args, **kwargs)
        if not self.cfg.get('verbose', False):
            quiet_console(logger)
        return logger

    def _log_env(self, env_cfg):
        """The environment and the config in full (the log file; the console with
        ``verbose``), then one line that says what runs where."""
        device = get_device()
        runtime = OrderedDict(env_cfg)
        runtime.update(self._randomness_cfg)
        runtime.update({'seed': self._seed, 'Distributed launcher': self._launcher,
                        'Distributed training': self._distributed,
                        'Processes': self._world_size, 'Device': device})
        body = lambda d: '\n    ' + '\n    '.join(f'{k}: {v}' for k, v in d.items())  # noqa: E731
        dash = '-' * 60
        self.logger.info(f'\n{dash}\nSystem environment:{body(collect_env())}\n'
                         f'\nRuntime environment:{body(runtime)}\n{dash}\n')
        if self.cfg._cfg_dict:
            self.logger.info(f'Config:\n{self.cfg.pretty_text}')
        backend = env_cfg.get('dist_cfg', {}).get('backend') if self._distributed else None
        where = f'{self._world_size} process(es) on {device}' + (f' ({backend})' if backend else '')
        log_file = osp.join(self._log_dir, f'{self.timestamp}.log')
        self.logger.info(f'{self.experiment_name}: {where}, seed {self._seed}, work dir '
                         f'{self.work_dir}; environment and config in {log_file}')

    def setup_env(self, env_cfg):
        # Without CUDA the process group is gloo: say so in env_cfg and in the config
        # that is logged and dumped to the work dir (configs ask for nccl).
        if not torch.cuda.is_available() and env_cfg.get('dist_cfg', {}).get('backend') == 'nccl':
            env_cfg['dist_cfg']['backend'] = 'gloo'  # the dict _log_env prints too
            if self.cfg.get('env_cfg', {}).get('dist_cfg') is not None:
                self.cfg.env_cfg.dist_cfg.backend = 'gloo'
        # mmengine's init_dist calls torch.cuda.set_device: without CUDA, start
        # a gloo process group ourselves (torchrun's env:// variables).
        if self.distributed and not dist.is_initialized() and not torch.cuda.is_available():
            if self.launcher != 'pytorch':
                raise RuntimeError(f'launcher "{self.launcher}" needs CUDA; on CPU use torchrun '
                                   '(tools/dist_train.sh, launcher "pytorch")')
            timeout = env_cfg.get('dist_cfg', {}).get('timeout', 1800)
            dist.init_process_group(backend='gloo', timeout=datetime.timedelta(seconds=timeout))
        # On CPUs, denormal floats (seen in AdamW states and small activations
        # after a few steps) slow every op by up to 8x; flush them to zero.
        torch.set_flush_denormal(True)
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        # mmengine always passes device_ids=[LOCAL_RANK], which DDP rejects for a CPU module.
        if self.distributed and get_device() == 'cpu' and model_wrapper_cfg is None:
            return MMDistributedDataParallel(
                module=model.to('cpu'), device_ids=None, broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)
