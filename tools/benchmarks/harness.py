"""Measuring a training step: synthetic multi-crop batches, one full step
(forward, backward, clipped AdamW update, EMA teacher update), its peak memory
and its FLOPs. Used by ``overhead.py``, ``throughput.py`` (this folder) and
``tools/analysis/get_flops.py``; imported as ``harness`` with this folder on
``sys.path`` (scripts run from here have it).

Peak memory of a step is reported as the model's *static* bytes (parameters,
buffers, gradients, optimizer state; the EMA teacher included) plus the
largest allocation above what was allocated when the step began: on CUDA from
``torch.cuda.max_memory_allocated``, on the CPU from the allocator events of
the torch profiler (``profile_memory=True``, the ``[memory]`` events' "Total
Allocated"). Both count tensor memory from torch's allocator, not the
process's resident size, so two models in one process are measured apart.
"""
import copy
import json
import math
import os
import tempfile
import time
from contextlib import nullcontext
from statistics import median
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from hssl.engine.optim_wrapper import OptimWrapper
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from hssl.engine.hooks.ema_teacher import ema_update

PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def synthetic_batch(batch: int, global_size: int, local_size: int, num_local: int,
                    patch_size: int, num_global: int = 2, mask_ratio: float = 0.15,
                    device: str = 'cpu', seed: int = 0) -> Tuple[List[Tensor], List[Tensor]]:
    """Random normalised views (globals first) and one random patch mask
    (B, h, w) per global view, ``mask_ratio`` of the patches masked."""
    if global_size % patch_size:
        raise ValueError(f'synthetic_batch: global size {global_size} is not a multiple of '
                         f'the patch size {patch_size}')
    g = torch.Generator().manual_seed(seed)
    views = [torch.randn(batch, 3, global_size, global_size, generator=g) for _ in range(num_global)]
    views += [torch.randn(batch, 3, local_size, local_size, generator=g) for _ in range(num_local)]
    side = global_size // patch_size
    masks = [torch.rand(batch, side, side, generator=g) < mask_ratio for _ in range(num_global)]
    return [v.to(device) for v in views], [m.to(device) for m in masks]


def total_loss(model: nn.Module, views: Sequence[Tensor], masks: Optional[Sequence[Tensor]]
               ) -> Tensor:
    """The algorithm's summed loss on ``views`` (iBOT: with the patch ``masks``)."""
    if masks is None:
        losses = model.loss(list(views), None)
    else:
        losses = model.loss(list(views), None, masks=list(masks))
    return model.parse_losses(losses)[0]


def adamw(params, lr: float, fused: Optional[bool] = None) -> torch.optim.AdamW:
    """AdamW (weight decay 0.04): fused where torch has the fused kernel for
    the parameters' device (CUDA; the CPU since torch 2.4) unless ``fused`` is
    False; else the foreach implementation. On a CPU the fused kernel does
    each tensor's whole update in one pass, 4-6x less time than foreach, which
    on the CPU runs one kernel per tensor and step of the update."""
    params = list(params)
    if fused is not False:
        try:
            return torch.optim.AdamW(params, lr=lr, weight_decay=0.04, fused=True)
        except RuntimeError:
            if fused:
                raise
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.04, foreach=True)


class TrainStep:
    """One training step of a DINO/iBOT-style algorithm, as the runner does it:
    loss under autocast, backward, per-tensor gradient clipping (3.0), AdamW, then the
    teacher's EMA update (foreach, :func:`~hssl.engine.hooks.ema_teacher.ema_update`)
    and ``zero_grad(set_to_none=True)``.

    Args:
        model: a :class:`~hssl.models.algorithms.SelfSupervisedAlgorithm`.
        precision: 'fp32', 'bf16' or 'fp16' (autocast dtype).
        fused: AdamW implementation: None (default) fused where supported,
            True fused (an error where unsupported), False foreach.
        ema: 'foreach' (:func:`ema_update`) or 'loop' (mmengine's
            ``update_parameters``, one tensor at a time), for comparisons.
        lr, momentum: AdamW lr and teacher momentum (values do not matter for speed).
    """

    def __init__(self, model: nn.Module, precision: str = 'fp32', fused: Optional[bool] = None,
                 lr: float = 5e-4, momentum: float = 0.996, max_norm: float = 3.0,
                 ema: str = 'foreach'):
        if ema not in ('foreach', 'loop'):
            raise ValueError(f"TrainStep: ema must be 'foreach' or 'loop', got {ema!r}")
        self.ema = ema
        if precision not in PRECISIONS:
            raise ValueError(f'TrainStep: precision {precision!r} not in {sorted(PRECISIONS)}')
        self.model = model.train()
        self.device = next(model.parameters()).device
        self.dtype = PRECISIONS[precision]
        optimizer = adamw((p for p in model.parameters() if p.requires_grad), lr, fused)
        self.fused = bool(optimizer.defaults.get('fused'))
        self.optim_wrapper = OptimWrapper(optimizer,  # the recipes: per-tensor clipping
                                          clip_grad=dict(type='per_tensor', max_norm=max_norm))
        if getattr(model, 'with_teacher', False):
            model.teacher.momentum = 1.0 - momentum

    def autocast(self):
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def losses(self, views: Sequence[Tensor], masks: Optional[Sequence[Tensor]]) -> Tensor:
        with self.autocast():
            return total_loss(self.model, views, masks)

    def __call__(self, views: Sequence[Tensor], masks: Optional[Sequence[Tensor]] = None) -> float:
        loss = self.losses(views, masks)
        self.optim_wrapper.update_params(loss)  # backward, clip, step, zero_grad
        if getattr(self.model, 'with_teacher', False):
            if self.ema == 'foreach':
                ema_update(self.model.teacher, self.model.student)
            else:
                self.model.teacher.update_parameters(self.model.student)
        for p in self.model.parameters():  # gradients are not kept between steps
            p.grad = None
        return float(loss.detach())

    def static_bytes(self) -> int:
        """Parameters, buffers, gradients and optimizer state held between steps."""
        seen, total = set(), 0
        tensors = list(self.model.parameters()) + list(self.model.buffers())
        for state in self.optim_wrapper.optimizer.state.values():
            tensors += [v for v in state.values() if torch.is_tensor(v)]
        for t in tensors:
            if t.data_ptr() not in seen:
                seen.add(t.data_ptr())
                total += t.numel() * t.element_size()
        return total


def synchronize(device) -> None:
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def interleaved_timings(steps: Dict[str, TrainStep], views, masks, num_steps: int,
                        warmup: int) -> Dict[str, List[float]]:
    """Seconds per step of every model, the models taking turns step by step
    (the order alternating), the first ``warmup`` rounds dropped."""
    times = {name: [] for name in steps}
    names = list(steps)
    for i in range(warmup + num_steps):
        for name in (names if i % 2 == 0 else names[::-1]):
            step = steps[name]
            synchronize(step.device)
            start = time.perf_counter()
            step(views, masks)
            synchronize(step.device)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def step_peak_bytes(step: TrainStep, views, masks) -> Tuple[int, str]:
    """(static bytes + peak bytes allocated above the step's start, how measured)."""
    static = step.static_bytes()
    if step.device.type == 'cuda':
        synchronize(step.device)
        base = torch.cuda.memory_allocated(step.device)
        torch.cuda.reset_peak_memory_stats(step.device)
        step(views, masks)
        synchronize(step.device)
        return static + torch.cuda.max_memory_allocated(step.device) - base, \
            'torch.cuda.max_memory_allocated'
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step(views, masks)
    fd, path = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)['traceEvents']
    finally:
        os.remove(path)
    totals = [e['args']['Total Allocated'] for e in events
              if e.get('name') == '[memory]' and 'Total Allocated' in e.get('args', {})]
    if not totals:
        raise RuntimeError('step_peak_bytes: the profiler recorded no allocator events')
    return static + max(0, max(totals)), 'torch.profiler CPU allocator events'


def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation,
                       transposed, _output_padding, groups, output_mask, out_shape=None,
                       **kwargs) -> int:
    """FLOPs of ``aten.convolution_backward``, grouped convolutions counted right.

    torch's own formula (``torch.utils.flop_counter``, 2.x) counts the
    weight gradient of a grouped convolution as if it were dense, ``groups``
    times too many: a depthwise 7x7 conv (ConvNeXt) of width C gets C times
    its real backward cost. This is that formula with the weight-gradient
    term divided by ``groups``; for ``groups == 1`` the two agree.
    """
    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])
    flops = 0
    if output_mask[0]:  # grad input: a transposed conv of grad_out with the weight
        flops += conv_flop_count(grad_out_shape, w_shape, out_shape[0], not transposed)
    if output_mask[1]:  # grad weight: a conv of input and grad_out, per group
        if transposed:
            dense = conv_flop_count(t(grad_out_shape), t(x_shape), t(out_shape[1]))
        else:
            dense = conv_flop_count(t(x_shape), t(grad_out_shape), t(out_shape[1]))
        flops += dense // groups
    return flops


def flop_counter() -> FlopCounterMode:
    """``FlopCounterMode`` with :func:`conv_backward_flop` for convolution backward."""
    return FlopCounterMode(display=False, custom_mapping={
        torch.ops.aten.convolution_backward: conv_backward_flop})


def step_flops(step: TrainStep, views, masks) -> int:
    """FLOPs of one training step (teacher forward, student forward and
    backward; attention included), counted by :func:`flop_counter`."""
    counter = flop_counter()
    with counter:
        step.losses(views, masks).backward()
    for p in step.model.parameters():
        p.grad = None
    return counter.get_total_flops()


def meta_step_flops(model: nn.Module, views, masks) -> float:
    """FLOPs per image of one training step of ``model``, counted as in
    :func:`step_flops` on a copy of the model on the ``meta`` device (shapes
    only: instant and without memory at any size). Attention is counted
    there (scaled-dot-product attention runs as matmuls), whereas a real CPU
    run's count lacks it: torch has no FLOP formula for the CPU
    flash-attention kernel. Use this count for FLOP/s figures."""
    meta = copy.deepcopy(model).to('meta')
    counter = flop_counter()
    with counter:
        total_loss(meta, [v.to('meta') for v in views],
                   None if masks is None else [m.to('meta') for m in masks]).backward()
    return counter.get_total_flops() / views[0].shape[0]


def backbone_forward_flops(model: nn.Module, size: int) -> int:
    """FLOPs of one forward of the student's backbone on a ``size`` px image (counted
    on a ``meta`` copy, as :func:`meta_step_flops`): the inference cost."""
    backbone = copy.deepcopy(model.student.backbone).to('meta')
    counter = flop_counter()
    with counter, torch.no_grad():
        backbone(torch.zeros(1, 3, size, size, device='meta'))
    return counter.get_total_flops()


def summary(times: List[float]) -> Dict[str, float]:
    """Median, and the spread as the interquartile range, of step times."""
    s = sorted(times)
    q = lambda f: s[min(len(s) - 1, max(0, math.ceil(f * len(s)) - 1))]  # noqa: E731
    return dict(median=median(s), q1=q(0.25), q3=q(0.75), n=len(s))
