"""Build a model from a config, load weights, extract backbone features."""
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from hssl.engine.runner import describe_mismatch
from hssl.evaluation.features import build_eval_dataset, extract_features  # noqa: F401
from hssl.registry import MODELS
from hssl.utils.console import quiet_init_info
from hssl.utils.checkpoint import load_checkpoint_file


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


def build_loader(dataset_cfg: dict, batch_size: int = 128, num_workers: int = 2,
                 default_scope: str = 'hssl') -> DataLoader:
    with DefaultScope.overwrite_default_scope(default_scope):
        dataset = build_eval_dataset(dataset_cfg)
    return DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                      shuffle=False, collate_fn=default_collate)
