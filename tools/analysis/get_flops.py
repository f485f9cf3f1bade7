"""Parameters and FLOPs of a config's model: the inference backbone and a whole training step.

    python tools/analysis/get_flops.py CONFIG [--img-size PX] [--cfg-options k=v ...]

* Parameters of the student's backbone, auxiliary heads and projectors, of everything
  trained (also e.g. MAE's decoder, MoCo's predictor) and of the teacher (an EMA copy: no
  gradients, no optimizer state).
* Inference: one forward of the backbone on one ``--img-size`` image (default the
  backbone's ``img_size``): what is left after pre-training, the auxiliary heads dropped.
* Training step, per image: the algorithm's loss on views of the sizes and number that
  the config's training pipeline makes (run once on a grey image; iBOT's patch masks
  included), then its backward: teacher forward, student forward and backward, heads
  and projectors included. (A model whose loss reads tensor values, MAE's random
  masking, is counted on the CPU instead, batch 1, attention on the math backend.)

FLOPs are counted, not estimated, by ``torch.utils.flop_counter.FlopCounterMode`` on a
copy of the model on the ``meta`` device (shapes only: any size, no memory), with
grouped-convolution backward counted right (``tools/benchmarks/harness.py``, shared
with the benchmarks). A multiply-add counts 2 FLOPs; matrix products, convolutions
and attention are counted, element-wise operations, normalisation and softmax are not.
The optimizer step and the EMA update (element-wise) are not counted either.
``tools/analysis/head_cost.py`` compares the heads alone.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from torch.nn.attention import SDPBackend, sdpa_kernel

import hssl  # noqa: F401
from hssl.apis import build_model
from hssl.apis.views import per_view, views_of_array

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'benchmarks'))
from harness import backbone_forward_flops, flop_counter, meta_step_flops, total_loss  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--img-size', type=int,
                   help="inference image side (default: the backbone's img_size)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. model.network.auxiliary.depth=1')
    return p.parse_args(argv)


def millions(module) -> float:
    return 0.0 if module is None else sum(p.numel() for p in module.parameters()) / 1e6


def step_inputs(cfg):
    """One image's views as (1, 3, h, w) tensors, and its patch masks (None if none)."""
    results = views_of_array(cfg)
    views = [torch.zeros(1, 3, *v.shape[:2]) for v in results['img']]
    masks = [m for m in per_view(results, 'patch_mask') if m is not None]
    masks = [torch.as_tensor(m)[None] for m in masks] or None
    return views, masks


def step_flops_per_image(model, views, masks) -> float:
    """:func:`meta_step_flops`; for a model whose loss reads values (``.item()``, e.g.
    MAE's random masking), the same count on the CPU with attention on PyTorch's math
    backend, so that its matrix products are counted too."""
    try:
        return meta_step_flops(model, views, masks)
    except (RuntimeError, NotImplementedError):
        pass
    counter = flop_counter()
    with sdpa_kernel(SDPBackend.MATH), counter:
        total_loss(model.train(), views, masks).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / views[0].shape[0]


def describe(views, masks) -> str:
    sizes = [v.shape[-1] for v in views]
    groups = {s: sizes.count(s) for s in dict.fromkeys(sizes)}
    text = ' + '.join(f'{n} x {s} px' for s, n in groups.items())
    return text + (f', patch masks on {len(masks)}' if masks else '')


def count(cfg, img_size=None) -> dict:
    """Parameter counts (M) and GFLOPs of ``cfg``'s model (see the module doc)."""
    model = build_model(cfg)
    student = model.student
    backbone = student.backbone
    size = img_size or getattr(backbone, 'img_size', None)
    size = size[0] if isinstance(size, (tuple, list)) else size
    if not size:
        raise ValueError('the backbone has no img_size: give --img-size')
    views, masks = step_inputs(cfg)
    return dict(
        algorithm=type(model).__name__, views=describe(views, masks), img_size=size,
        backbone=millions(backbone), aux_heads=millions(getattr(student, 'aux_heads', None)),
        projectors=millions(getattr(student, 'projectors', None)),
        trained=millions(model) - millions(getattr(model, 'teacher', None)),
        teacher=millions(getattr(model, 'teacher', None)),
        inference_gflops=backbone_forward_flops(model, size) / 1e9,
        step_gflops=step_flops_per_image(model, views, masks) / 1e9)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'get_flops.py: error: no config file {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        r = count(cfg, args.img_size)
    except (KeyError, ValueError, TypeError) as err:
        sys.exit(f'get_flops.py: error: {args.config}: {err}')
    print(f'{args.config}: {r["algorithm"]}, training views {r["views"]}')
    print(f'parameters (M): backbone {r["backbone"]:.2f} | auxiliary heads {r["aux_heads"]:.2f} | '
          f'projectors {r["projectors"]:.2f} | all trained {r["trained"]:.2f} | '
          f'teacher {r["teacher"]:.2f} (EMA copy)')
    print(f'inference (backbone forward, one {r["img_size"]} px image): '
          f'{r["inference_gflops"]:.3f} GFLOPs')
    print(f'training step per image (forward + backward on all views): '
          f'{r["step_gflops"]:.3f} GFLOPs')
    return r


if __name__ == '__main__':
    main()
