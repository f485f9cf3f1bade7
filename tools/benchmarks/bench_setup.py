"""The models and views of the benchmarks (overhead.py, throughput.py).

A benchmark model is the config ``configs/_base_/models/<method>_vits16.py``
(DINO or iBOT, the paper's projection heads) with the backbone size, patch
size and image size of the benchmark, and, for HSSL, an auxiliary head of the
given type and depth (without its first shortcut, Tab. IV).
"""
import argparse
import copy
import logging
import os.path as osp

import torch
from mmengine.config import Config

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, non_negative_int, positive_int
from hssl.apis import build_model
from harness import PRECISIONS, synthetic_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHODS = ('dino', 'ibot')


def model_config(method: str, arch: str, patch_size: int, img_size: int, head=None,
                 depth: int = 3, out_channels=None, hidden_channels=None) -> Config:
    """Config (with ``model``) of the baseline (head None) or its HSSL variant
    (``head``: a head type, built with ``depth``, or a whole auxiliary config)."""
    if method not in METHODS:
        raise ValueError(f'bench_setup: method {method!r} not in {METHODS}')
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models', f'{method}_vits16.py'))
    model = copy.deepcopy(cfg.model.to_dict())
    model['network']['backbone'].update(arch=arch, patch_size=patch_size, img_size=img_size)
    if isinstance(head, dict):  # a whole auxiliary config (e.g. the parallel network)
        model['network']['auxiliary'] = dict(head)
    elif head is not None:
        model['network']['auxiliary'] = dict(type=head, depth=depth, first_shortcut=False)
    if hidden_channels is not None:  # toy runs: a narrow projector MLP
        model['network']['projector'].update(hidden_channels=hidden_channels,
                                             bottleneck_channels=min(256, hidden_channels))
    if out_channels is not None:
        model['network']['projector']['out_channels'] = out_channels
        for key in ('loss', 'patch_loss'):
            if key in model:
                model[key]['out_channels'] = out_channels
    return Config(dict(model=model, default_scope='hssl'))


def add_arguments(p: argparse.ArgumentParser, arch='small', patch=16, global_size=64,
                  local_size=32, local=4, batch=8, precision='fp32'):
    p.add_argument('--method', choices=METHODS, default='ibot')
    p.add_argument('--arch', default=arch, help='ViT size: tiny, small, base, large')
    p.add_argument('--patch-size', type=positive_int, default=patch)
    p.add_argument('--head', default='ConvNeXtHead', help='auxiliary head type (registry name)')
    p.add_argument('--depth', type=positive_int, default=3, help='auxiliary head depth')
    p.add_argument('--global-size', type=positive_int, default=global_size)
    p.add_argument('--local-size', type=positive_int, default=local_size)
    p.add_argument('--local-crops', type=non_negative_int, default=local)
    p.add_argument('--batch', type=positive_int, default=batch, help='images per step (per device)')
    p.add_argument('--out-channels', type=positive_int, help='projection width (default: the config\'s)')
    p.add_argument('--hidden-channels', type=positive_int,
                   help='projector MLP width (default: the config\'s 2048; toy runs)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--precision', choices=sorted(PRECISIONS), default=precision,
                   help='autocast dtype of the step (bf16 on a GPU)')
    p.add_argument('--fused', dest='fused', action='store_true', default=None,
                   help='fused AdamW, an error where torch has no fused kernel (default: '
                        'fused where it has one, CUDA and CPU, else foreach)')
    p.add_argument('--foreach', dest='fused', action='store_false',
                   help='foreach AdamW instead of fused')
    p.add_argument('--threads', type=positive_int, help='torch CPU threads (default: torch\'s)')
    p.add_argument('--seed', type=int, default=0)


def build(args, head):
    """The benchmark model (on args.device, train mode) for ``head`` (None: baseline;
    a type name or a whole auxiliary config, see :func:`model_config`)."""
    cfg = model_config(args.method, args.arch, args.patch_size, args.global_size, head,
                       args.depth, args.out_channels, args.hidden_channels)
    logging.disable(logging.INFO)  # mmengine logs every parameter's initialisation
    try:
        return build_model(cfg, None, device=args.device, seed=args.seed).train()
    finally:
        logging.disable(logging.NOTSET)


def views(args):
    return synthetic_batch(args.batch, args.global_size, args.local_size, args.local_crops,
                           args.patch_size, device=args.device, seed=args.seed)


def setup_threads(args):
    if args.threads:
        torch.set_num_threads(args.threads)
