"""A hook for the distributed tests: each rank writes its final weights (imported by
tiny_digits_dist_config.py)."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from hssl.utils.model_wrapper import unwrap
from hssl.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):

    def after_train(self, runner):
        state = {k: v.detach().cpu() for k, v in unwrap(runner.model).state_dict().items()}
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
