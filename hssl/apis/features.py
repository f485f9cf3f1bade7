"""A model from a config and its weights; its k-NN features (sharded, cached)."""
from typing import Callable, Dict, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from hssl.evaluation.feature_cache import sha256_file, train_test_features
from hssl.evaluation.features import build_eval_dataset, knn_dataset_cfgs
from hssl.registry import MODELS
from hssl.reliability.checkpoint_files import load_checkpoint_file
from hssl.reliability.model_mismatch import describe_mismatch
from hssl.utils.console import quiet_init_info


def build_model(cfg: Config, checkpoint: Optional[str] = None, device: str = 'cpu', seed: int = 0,
                verbose: bool = False):
    """The config's model with ``checkpoint``'s weights (strict), or freshly
    initialised (seeded) when ``checkpoint`` is None. In eval mode. ``verbose``:
    let mmengine log every parameter's initialisation."""
    torch.set_flush_denormal(True)  # see HSSLRunner.setup_env
    if checkpoint is None:  # construction draws random numbers too (e.g. conv defaults)
        torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'hssl')):
        model = MODELS.build(cfg.model)
    if checkpoint is None:
        with quiet_init_info(verbose):  # mmengine logs every parameter's init
            model.init_weights()
    else:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')  # checked before unpickling
        state_dict = ckpt.get('state_dict', ckpt)
        problem = describe_mismatch(model, state_dict, checkpoint)
        if problem:
            raise RuntimeError(problem)
        model.load_state_dict(state_dict)
    return model.to(device).eval()


def model_knn_features(cfg: Config, checkpoint: Optional[str] = None, *,
                       config_path: str = 'the config', train_dir: Optional[str] = None,
                       val_dir: Optional[str] = None, use_teacher: bool = True,
                       device: Optional[str] = None, batch_size: int = 128,
                       num_workers: int = 2, cache_dir: Optional[str] = None,
                       verbose: bool = False,
                       log: Callable[[str], None] = print) -> Optional[Dict[str, np.ndarray]]:
    """The k-NN train / test features of the config's model (what
    ``tools/knn_eval.py`` evaluates): the checkpoint's weights, or the seeded
    random initialisation when ``checkpoint`` is None.

    Data: the folders ``train_dir`` / ``val_dir`` or the config's k-NN sets
    (:func:`hssl.evaluation.knn_dataset_cfgs`). Features of the teacher's
    backbone (``use_teacher=False``: the student's) on ``device`` (default:
    this process's GPU, else the CPU), extracted over the processes of a
    torchrun launch and cached in ``cache_dir`` (None: no cache) by
    :func:`hssl.evaluation.train_test_features`, keyed by the checkpoint's
    sha256 (random weights: their values), the image lists, the data set
    configs, the model config and the branch. Rank 0 gets the arrays, the
    other ranks None. ``cfg`` is taken as it is: check it first
    (:func:`hssl.engine.config_check.check_config`).
    """
    ds_cfgs = knn_dataset_cfgs(cfg, config_path, train_dir, val_dir)
    datasets = [build_eval_dataset(c, cfg.get('default_scope', 'hssl')) for c in ds_cfgs]
    if device is None:
        device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'
    return train_test_features(
        lambda: build_model(cfg, checkpoint, device=device, verbose=verbose), datasets,
        weights=(lambda: sha256_file(checkpoint)) if checkpoint else None,
        key_extra=[ds_cfgs, cfg.model, 'teacher' if use_teacher else 'student'],
        cache_dir=cache_dir, batch_size=batch_size, num_workers=num_workers,
        use_teacher=use_teacher, log=log)
