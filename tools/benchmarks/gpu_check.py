"""One GPU check: every GPU measurement of hssl in one run, one table.

    python tools/benchmarks/gpu_check.py [--cpu-smoke] [--cifar DIR] [--out DIR]
    (normally through tools/benchmarks/gpu_check.sh, which installs what is missing)

Steps (each a row of the table; a failing step is reported and the others run):

1. throughput: iBOT + HSSL (ConvNeXt d3) ViT-B/16, 2 x 224 + 10 x 96 px, batch
   64, bf16, fused AdamW: images/s and fraction of the FLOP bound (throughput.py);
2. overhead: the same baseline vs HSSL side by side: time and memory ratios
   at the paper's sizes (overhead.py), with the counted FLOP ratio;
3. data: samples/s per CPU worker of the CPU pipeline and of the device path's
   CPU part on generated 500 x 375 JPEGs, and the colour augmentation's GPU
   time per batch of 64 (data_throughput.py);
4. k-NN: the torch backend on the GPU, 1.28 M x 768 training features,
   50,000 queries, k = 200 (knn_speed.py);
5. training: 300 bf16 iterations of configs/hssl/ibot_vitt4_convnext_100e_cifar10.py
   on CIFAR-10 (JPEG q75) from ``--cifar`` (a class-folder tree, or the
   ``cifar10-jpeg.tar.gz`` archive), or on generated images if none is given:
   the loss must be finite and fall (mean of the last 10% of the iterations
   below the first 10%'s).

``--cpu-smoke`` runs every step at toy size on the CPU (fp32; seconds), to check
the script itself. The table is printed and written to ``OUT/gpu_check.md``.
"""
import argparse
import contextlib
import io
import os
import os.path as osp
import sys
import tarfile
import tempfile
import time
import traceback

import numpy as np
import torch

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)

import data_throughput  # noqa: E402
import knn_speed  # noqa: E402
import overhead  # noqa: E402
import throughput  # noqa: E402

GPU_MODEL = ['--arch', 'base', '--global-size', '224', '--local-size', '96', '--local-crops', '10',
             '--batch', '64', '--precision', 'bf16', '--fused', '--device', 'cuda']
SMOKE_MODEL = ['--arch', 'tiny', '--global-size', '32', '--local-size', '16', '--local-crops', '2',
               '--batch', '2', '--precision', 'fp32', '--device', 'cpu', '--threads', '1',
               '--depth', '1', '--out-channels', '256', '--hidden-channels', '64']


def step_throughput(smoke):
    argv = (SMOKE_MODEL + ['--steps', '1', '--warmup', '1']) if smoke else \
        (GPU_MODEL + ['--steps', '10', '--warmup', '3'])
    r = throughput.main(argv)
    return (f'{r["images_per_s"]:.1f} images/s, {r["fraction"]:.1%} of the bound '
            f'({r["flops_per_image"] / 1e9:.1f} GFLOP per image)')


def step_overhead(smoke):
    argv = (SMOKE_MODEL + ['--steps', '1', '--warmup', '1']) if smoke else \
        (GPU_MODEL + ['--steps', '10', '--warmup', '3'])
    r = overhead.main(argv)
    return (f'time x{r["time"]:.2f}, memory x{r["memory"]:.2f} (counted FLOPs x{r["flops"]:.3f}; '
            'paper: x1.14 / x1.17)')


def step_data(smoke):
    if smoke:
        argv = [osp.join(REPO, 'configs/ibot/ibot_vitt4_100e_cifar10.py'), '--generate', '3',
                '--size', '64x48', '--warmup', '1', '--batch', '2', '--colour-device', 'cpu']
    else:
        argv = [osp.join(REPO, 'configs/ibot/ibot_vitb16_100e_in1k.py'), '--generate', '40',
                '--warmup', '5', '--batch', '64', '--colour-device', 'cuda']
    r = data_throughput.main(argv)
    return (f'per CPU worker: CPU pipeline {r["cpu"]:.1f} samples/s, device path '
            f'{r["device (CPU part)"]:.1f} (cv2 resize {r["device (CPU part), cv2 resize"]:.1f}); '
            f'colour on {argv[-1]}: {r["colour_ms"]:.1f} ms per batch of {argv[-3]}')


def step_knn(smoke):
    argv = ['--train', '2000', '--test', '100', '--dim', '32', '--classes', '10',
            '--methods', 'torch', '--device', 'cpu'] if smoke else \
        ['--train', '1281167', '--test', '50000', '--dim', '768', '--classes', '1000',
         '--methods', 'torch', '--device', 'cuda']
    times, _ = knn_speed.main(argv)
    n = int(argv[3])
    return f'torch backend: {times["torch"]:.2f} s for {n:,} queries against {int(argv[1]):,} x {argv[5]}'


def cifar_root(path, tmp):
    """A CIFAR-10 class-folder tree: ``path`` itself, or unpacked from a .tar.gz."""
    if path.endswith(('.tar.gz', '.tgz')):
        with tarfile.open(path) as tar:
            tar.extractall(tmp, filter='data')
        path = osp.join(tmp, 'cifar10')
    if not osp.isdir(osp.join(path, 'train')):
        raise FileNotFoundError(f'gpu_check: no train/ folder in {path!r}')
    return path, 'CIFAR-10 (JPEG q75)'


def synthetic_root(tmp, count):
    from hssl.datasets.synthetic import write_synthetic_jpegs
    folder = osp.join(tmp, 'synthetic', 'train', 'all')
    os.makedirs(folder)
    write_synthetic_jpegs(folder, count, size=(32, 32), quality=75)
    return osp.join(tmp, 'synthetic'), f'{count} generated 32 x 32 JPEGs'


def step_train(smoke, cifar, iters=None, batch=None):
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from hssl.apis import build_runner
    iters = iters or (4 if smoke else 300)
    batch = batch or (4 if smoke else 128)
    with tempfile.TemporaryDirectory() as tmp:
        if cifar:
            root, what = cifar_root(cifar, tmp)
        else:
            root, what = synthetic_root(tmp, 64 if smoke else 2048)
        cfg = Config.fromfile(osp.join(REPO, 'configs/hssl/ibot_vitt4_convnext_100e_cifar10.py'))
        cfg.train_dataloader.dataset.data_root = osp.join(root, 'train')
        workers = 0 if smoke else min(12, os.cpu_count() or 1)
        cfg.train_dataloader.update(batch_size=batch, num_workers=workers,
                                    persistent_workers=workers > 0)
        # exactly `iters` iterations (the data loader restarts at the data's end)
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
        cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
                                    end=max(1, iters // 10))]
        cfg.optim_wrapper.optimizer.lr = 5e-4 * batch / 256
        cfg.custom_hooks = [h for h in cfg.custom_hooks if h.type != 'FreezeLastLayerHook']
        for h in cfg.custom_hooks:
            if h.type == 'TeacherTempHook':
                h.warmup_epochs = 0
        cfg.default_hooks.logger.interval = max(1, iters // 10)
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9)
        cfg.work_dir = osp.join(tmp, 'work')
        cfg.experiment_name = f'gpu_check_{os.getpid()}'
        if smoke:  # toy size: narrow projector, shallow head, 2 local crops
            cfg.merge_from_dict({'model.network.projector.out_channels': 256,
                                 'model.network.projector.hidden_channels': 64,
                                 'model.network.projector.bottleneck_channels': 32,
                                 'model.network.auxiliary.depth': 1,
                                 'model.loss.out_channels': 256,
                                 'model.patch_loss.out_channels': 256})
            cfg.train_dataloader.dataset.pipeline[1].local_crops_number = 2
            cfg.model.network.backbone.arch = dict(embed_dims=32, num_layers=2, num_heads=2,
                                                   feedforward_channels=64)
        runner = build_runner(cfg, amp=not smoke)
        start = time.perf_counter()
        runner.train()
        seconds = time.perf_counter() - start
        losses = np.asarray(MessageHub.get_current_instance().get_scalar('train/loss').data[0])
    tenth = max(1, len(losses) // 10)
    first, last = losses[:tenth].mean(), losses[-tenth:].mean()
    finite = bool(np.isfinite(losses).all())
    verdict = 'finite and falling' if finite and last < first else \
        ('finite, NOT falling' if finite else 'NOT finite')
    return (f'{len(losses)} iterations ({"fp32" if smoke else "bf16"}, batch {batch}) on {what} '
            f'in {seconds:.0f} s: loss {first:.3f} -> {last:.3f} ({verdict})'), verdict


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--cpu-smoke', action='store_true', help='every step at toy size on the CPU')
    p.add_argument('--cifar', help='CIFAR-10 class-folder tree or cifar10-jpeg.tar.gz '
                                   '(default: generated images)')
    p.add_argument('--out', default='work_dirs/gpu_check', help='where gpu_check.md goes')
    p.add_argument('--steps', nargs='+', default=['throughput', 'overhead', 'data', 'knn', 'train'],
                   choices=['throughput', 'overhead', 'data', 'knn', 'train'])
    p.add_argument('--train-iters', type=int, help='iterations of the training step')
    p.add_argument('--train-batch', type=int, help='batch of the training step')
    args = p.parse_args(argv)
    if args.cpu_smoke:
        torch.set_num_threads(1)
    if not args.cpu_smoke and not torch.cuda.is_available():
        p.exit(2, 'gpu_check: no CUDA device; use --cpu-smoke to check the script on the CPU\n')
    device = 'cpu (smoke)' if args.cpu_smoke else torch.cuda.get_device_name(0)
    steps = dict(throughput=('iBOT + HSSL ViT-B/16 training throughput', step_throughput),
                 overhead=('HSSL overhead at the paper\'s sizes', step_overhead),
                 data=('data pipeline and colour augmentation', step_data),
                 knn=('k-NN, torch backend, 1.28 M x 768', step_knn),
                 train=('CIFAR-10 iBOT + HSSL, 300 bf16 iterations', None))
    rows, failed = [], False
    for name in args.steps:
        title, fn = steps[name]
        start = time.perf_counter()
        print(f'== {name}: {title}', flush=True)
        try:
            log = io.StringIO()
            with contextlib.redirect_stdout(log):
                if name == 'train':
                    result, verdict = step_train(args.cpu_smoke, args.cifar, args.train_iters,
                                                 args.train_batch)
                    failed |= verdict != 'finite and falling' and not args.cpu_smoke
                else:
                    result = fn(args.cpu_smoke)
            print(log.getvalue(), end='')
        except Exception as e:  # noqa: BLE001 - one failing step must not hide the others
            traceback.print_exc()
            result, failed = f'FAILED: {type(e).__name__}: {e}'.replace('|', '/'), True
        rows.append((title, result, time.perf_counter() - start))
    lines = [f'gpu_check on {device}, torch {torch.__version__}, '
             f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}', '',
             '| check | result | seconds |', '|---|---|---:|']
    lines += [f'| {t} | {r} | {s:.0f} |' for t, r, s in rows]
    table = '\n'.join(lines)
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'gpu_check.md'), 'w') as f:
        f.write(table + '\n')
    print('\n' + table)
    return rows, failed


if __name__ == '__main__':
    sys.exit(1 if main()[1] else 0)
