"""Shared checks on configs."""
import os.path as osp

from conftest import REPO
from mmengine.config import Config

DEPTH3_CONVNEXT = dict(type='ConvNeXtHead', depth=3, first_shortcut=False)


def load(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


def assert_differs_only_by_head(base: str, hssl: str, head: dict = DEPTH3_CONVNEXT) -> None:
    """The HSSL recipe ``hssl`` is the baseline ``base`` plus ``head``, nothing else."""
    b, h = load(base), load(hssl)
    assert h.model.network.pop('auxiliary') == head
    assert h.model == b.model and h.train_dataloader == b.train_dataloader
    assert h.optim_wrapper == b.optim_wrapper and h.custom_hooks == b.custom_hooks
    assert h.param_scheduler == b.param_scheduler and h.train_cfg == b.train_cfg


# Configs kept under an older path for a documented command: alias -> the scheme-named config
# it inherits, unchanged (configs/README.md). The model index lists only the target.
ALIASES = {'configs/hssl/ibot_vitb_convnext.py': 'configs/hssl/ibot_vitb16_convnext_100e_in1k.py'}
