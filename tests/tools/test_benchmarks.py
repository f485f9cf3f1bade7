"""tools/benchmarks (harness.py and the scripts): FLOP counting of grouped convs,
static/peak memory of a step, interleaved timing, the study's helpers."""
import json
import os
import os.path as osp
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tests import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
from harness import (TrainStep, flop_counter, interleaved_timings, meta_step_flops,  # noqa: E402
                     step_flops, step_peak_bytes, summary, synthetic_batch)
import bench_setup  # noqa: E402
import class_subset  # noqa: E402
import knn_curve  # noqa: E402


def _count(counter, conv, x):
    with counter:
        conv(x).sum().backward()
    return counter.get_flop_counts()['Global']


def test_grouped_conv_backward_counted_per_group():
    # depthwise 3x3, 8 channels, 2 x 8 x 5 x 5 input, padding 1:
    # forward 2 * N * C * 9 * 25 = 7200; backward (grad input + grad weight) = 2 x 7200
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    ours = _count(flop_counter(), conv, x)
    assert ours[torch.ops.aten.convolution] == 7200
    assert ours[torch.ops.aten.convolution_backward] == 14400
    # torch's own formula counts the weight gradient densely (8 x 7200)
    assert _count(FlopCounterMode(display=False), conv, x)[torch.ops.aten.convolution_backward] == 64800


def test_dense_conv_backward_unchanged():
    conv = torch.nn.Conv2d(4, 6, 3, stride=2)
    x = torch.randn(3, 4, 9, 9, requires_grad=True)
    assert _count(flop_counter(), conv, x) == _count(FlopCounterMode(display=False), conv, x)


@pytest.fixture
def train_step(build, tiny_dino):
    """``train_step(**tiny_dino_options)``: the TrainStep of ``tiny_dino``, built with seed 0."""
    return lambda **kw: TrainStep(build(tiny_dino(**kw)))


def test_step_flops_scale_with_batch(train_step):
    step = train_step(auxiliary=dict(type='ConvNeXtHead', depth=1))
    one = step_flops(step, *_views(1))
    assert one > 0 and step_flops(step, *_views(2)) == 2 * one
    assert all(p.grad is None for p in step.model.parameters())
    # on a meta-device copy attention is counted too (as bmm): the real CPU
    # count lacks it (torch has no FLOP formula for the CPU flash-attention
    # kernel). Attention of the 2-block, width-32 ViT per image, 4 T^2 C per
    # block forward (QK^T and AV), backward twice that: teacher 2 x 65 tokens
    # forward, student 2 x 65 + 2 x 17 tokens forward and backward.
    attention = 2 * (2 * 4 * 65 ** 2 * 32) + 3 * 2 * (2 * 4 * 65 ** 2 * 32 + 2 * 4 * 17 ** 2 * 32)
    assert attention == 9_096_704
    no_head = train_step()
    real = step_flops(no_head, *_views(1))
    assert meta_step_flops(no_head.model, *_views(2)) == real + attention
    assert all(p.device.type == 'cpu' for p in no_head.model.parameters())
    assert all(p.device.type == 'cpu' for p in step.model.parameters())


def _views(batch):
    views, _ = synthetic_batch(batch, 32, 16, 2, patch_size=4)
    return views, None


def test_static_bytes_add_adam_state_after_a_step(train_step):
    step = train_step()
    before = step.static_bytes()
    step(*_views(2))
    trainable = [p for p in step.model.parameters() if p.requires_grad]
    # AdamW: exp_avg and exp_avg_sq (fp32) and a scalar fp32 step per parameter
    assert step.static_bytes() - before == sum(2 * 4 * p.numel() + 4 for p in trainable)
    assert all(p.grad is None for p in step.model.parameters())


def test_cpu_peak_grows_with_batch(train_step):
    step = train_step()
    step(*_views(2))
    small, how = step_peak_bytes(step, *_views(2))
    large, _ = step_peak_bytes(step, *_views(8))
    assert 'profiler' in how
    assert step.static_bytes() < small < large


class _FakeStep:
    device = torch.device('cpu')

    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def __call__(self, views, masks):
        self.calls.append(self.name)


def test_interleaved_timings_alternate_and_drop_warmup():
    calls = []
    steps = {'a': _FakeStep('a', calls), 'b': _FakeStep('b', calls)}
    times = interleaved_timings(steps, None, None, num_steps=3, warmup=2)
    assert calls == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a', 'a', 'b']
    assert [len(times['a']), len(times['b'])] == [3, 3]


def test_summary_quartiles():
    assert summary([4.0, 1.0, 3.0, 2.0]) == dict(median=2.5, q1=1.0, q3=3.0, n=4)


def test_synthetic_batch_shapes_and_bad_size():
    views, masks = synthetic_batch(3, 32, 16, 4, patch_size=8, mask_ratio=1.0)
    assert [tuple(v.shape) for v in views] == [(3, 3, 32, 32)] * 2 + [(3, 3, 16, 16)] * 4
    assert len(masks) == 2 and masks[0].shape == (3, 4, 4) and bool(masks[0].all())
    with pytest.raises(ValueError, match='not a multiple of the patch size 16'):
        synthetic_batch(1, 40, 16, 0, patch_size=16)


def test_bench_model_config():
    base = bench_setup.model_config('ibot', 'tiny', 4, 32, out_channels=128).model
    hssl = bench_setup.model_config('ibot', 'tiny', 4, 32, head='ConvNeXtHead', depth=2).model
    assert base.network.get('auxiliary') is None
    assert base.network.backbone.img_size == 32 and base.network.backbone.patch_size == 4
    assert base.loss.out_channels == base.patch_loss.out_channels == 128
    assert base.network.projector.out_channels == 128
    assert hssl.network.auxiliary == dict(type='ConvNeXtHead', depth=2, first_shortcut=False)
    with pytest.raises(ValueError, match="method 'mae' not in"):
        bench_setup.model_config('mae', 'tiny', 4, 32)


def test_class_subset(tmp_path):
    for name, count in (('cat', 5), ('dog', 3)):
        os.makedirs(tmp_path / 'src' / name)
        for i in range(count):
            (tmp_path / 'src' / name / f'{i}.jpg').write_bytes(b'x')
    (tmp_path / 'src' / 'cat' / 'notes.txt').write_text('not an image')
    assert class_subset.class_subset(str(tmp_path / 'src'), str(tmp_path / 'dst'), 2) == 4
    for name in ('cat', 'dog'):
        files = os.listdir(tmp_path / 'dst' / name)
        assert len(files) == 2 and all(osp.islink(tmp_path / 'dst' / name / f) for f in files)
    with pytest.raises(ValueError, match="class 'dog' .* has 3 images, fewer than --per-class 4"):
        class_subset.class_subset(str(tmp_path / 'src'), str(tmp_path / 'dst'), 4)


def test_knn_curve_table(tmp_path):
    for run, epoch, top1 in (('base', 0, 30.0), ('base', 1, 40.5), ('hssl', 0, 30.0),
                             ('hssl', 1, 42.0)):
        with open(tmp_path / f'{run}_epoch{epoch}.json', 'w') as f:
            json.dump({'top1': {'20': top1, '200': top1 - 1}, 'top5': {}}, f)
    curves = {r: knn_curve.load_curve(str(tmp_path), r) for r in ('base', 'hssl')}
    lines = knn_curve.table(curves, ['B', 'H'], [20, 200]).splitlines()
    assert lines[0] == '| epoch | B k=20 | H k=20 | B k=200 | H k=200 | diff k=20 | diff k=200 |'
    assert lines[3] == '| 1 | 40.50 | 42.00 | 39.50 | 41.00 | +1.50 | +1.50 |'
    with pytest.raises(FileNotFoundError, match='no mae_epoch<E>.json'):
        knn_curve.load_curve(str(tmp_path), 'mae')
