"""Data pipeline throughput per data-loader worker: the CPU pipeline and the
device-augmentation path's CPU part, side by side on the same images.

    # the ImageNet iBOT pipeline (2 x 224 + 10 x 96 px, block masks) on 64
    # generated photograph-like 500 x 375 JPEGs (q90, ImageNet's typical size)
    python tools/benchmarks/data_throughput.py configs/ibot/ibot_vitb16_100e_in1k.py --generate 64
    # large photographs, where reduced-size JPEG decoding applies
    python tools/benchmarks/data_throughput.py configs/ibot/ibot_vitb16_100e_in1k.py \
        --generate 32 --size 1600x1200
    # the CIFAR-10 pipeline on the real images
    python tools/benchmarks/data_throughput.py configs/ibot/ibot_vitt4_100e_cifar10.py \
        --images ~/.cache/hssl-data/cifar10/train --limit 500

Runs, in one process with one thread (as one data-loader worker), sample by
sample with the paths taking turns on every image (so both see the same
machine load), after ``--warmup`` samples:

* ``cpu``: the config's ``train_dataloader.dataset.pipeline`` (LoadImage,
  DINOMultiCrop with colour jitter, grayscale, blur, solarisation,
  BlockMaskGenerator, PackInputs);
* ``device (CPU part)``: the same views through ``DINOGeometricMultiCrop``
  (read, decode at reduced size where the crops allow, crop + resize, flip,
  masks; uint8), then PackInputs: what a worker does on the device path;
* the same with ``backend='cv2'`` (OpenCV's area / bicubic resize);
* the same without reduced-size decoding (``--no-reduced`` leaves it out).

It prints samples/s and views/s per worker for each, the time share of each
step of the device path's CPU part, and the colour augmentation's time per
batch of ``--batch`` samples (``DINOColorAugment`` in the data preprocessor):
on the CPU (for scale) and, where CUDA is available, on the GPU (CUDA events).
``--target`` images/s gives the workers needed to keep up.
"""
import argparse
import os
import os.path as osp
import tempfile
import time
from collections import defaultdict

import cv2
import numpy as np
import torch
from mmengine.config import Config

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import (ArgumentParser, existing_dir, existing_file, non_negative_int,
                            positive_float, positive_int, run)
import hssl.datasets  # noqa: F401,E402  (registers the transforms)
import hssl.models  # noqa: F401,E402  (registers the data preprocessors)
from hssl.datasets.image_folder import IMAGE_EXTENSIONS
from hssl.datasets.synthetic import write_synthetic_jpegs
from hssl.datasets.transforms import (DINOGeometricMultiCrop, build_transforms,
                                      device_augment_pipeline, draft_scale, gather_view_keys)
from hssl.datasets.transforms.geometric_crops import LazyImage
from hssl.models.data_preprocessors import DINOColorAugment


def list_images(folder: str, limit: int):
    paths = []
    for root, _, files in os.walk(osp.expanduser(folder), followlinks=True):
        paths += [osp.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS)]
    if not paths:
        raise FileNotFoundError(f'data_throughput: no image below {folder!r}')
    return sorted(paths)[:limit]


def _apply(transforms, path):
    results = dict(img_path=path)
    for t in transforms:
        results = t(results)
    return results


def staged_device_part(crop: DINOGeometricMultiCrop, rest, path, stages):
    """The device path's CPU part for one image, each step's seconds added to ``stages``."""
    t0 = time.perf_counter()
    lazy = LazyImage(path)
    t1 = time.perf_counter()
    boxes = crop.draw_boxes(*lazy.size)
    scale = draft_scale(lazy.size, boxes, crop.out_sizes) if crop.reduced_decoding else 1
    t2 = time.perf_counter()
    img, fx, fy = lazy.decode(scale)
    t3 = time.perf_counter()
    views = crop.crop_views(img, (fx, fy), boxes)
    t4 = time.perf_counter()
    per_view = [extra(dict(img=v)) for v, extra in zip(views, crop.extras)]
    results = gather_view_keys(dict(img_path=path), per_view)
    t5 = time.perf_counter()
    for t in rest:
        results = t(results)
    t6 = time.perf_counter()
    for name, dt in (('read file + header', t1 - t0), ('draw crop boxes', t2 - t1),
                     ('JPEG decode', t3 - t2), ('crop + resize + flip', t4 - t3),
                     ('masks (BlockMaskGenerator)', t5 - t4), ('PackInputs', t6 - t5)):
        stages[name] += dt
    stages['scales'].append(scale)
    return results


def time_paths(paths, pipelines, warmup: int):
    """Seconds and views per pipeline, taking turns image by image."""
    seconds, views = defaultdict(float), defaultdict(int)
    stages = defaultdict(float, scales=[])
    names = list(pipelines)
    for i, path in enumerate(paths):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            fn = pipelines[name]
            start = time.perf_counter()
            out = fn(path, stages if i >= warmup else defaultdict(float, scales=[]))
            if i >= warmup:
                seconds[name] += time.perf_counter() - start
                views[name] += len(out['inputs'])
    return seconds, views, stages


def colour_time(local_crops: int, global_size: int, local_size: int, batch: int, device: str,
                repeats: int = 3):
    """Median seconds of DINOColorAugment on one batch of views (uint8 -> float
    in [0, 1] included) on ``device``."""
    aug = DINOColorAugment(local_crops_number=local_crops).to(device)
    gen = torch.Generator().manual_seed(0)
    views = [torch.randint(0, 256, (batch, 3, global_size, global_size), generator=gen,
                           dtype=torch.uint8) for _ in range(2)]
    views += [torch.randint(0, 256, (batch, 3, local_size, local_size), generator=gen,
                            dtype=torch.uint8) for _ in range(local_crops)]
    views = [v.to(device) for v in views]
    times = []
    for i in range(repeats + 1):
        if device.startswith('cuda'):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            aug([v.float().div_(255) for v in views])
            end.record()
            torch.cuda.synchronize()
            dt = start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            aug([v.float().div_(255) for v in views])
            dt = time.perf_counter() - t0
        if i > 0:  # the first call builds kernels
            times.append(dt)
    return float(np.median(times))


def image_size(text: str):
    """'WxH' -> (W, H), both positive."""
    parts = text.lower().split('x')
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f'expected WxH such as 500x375, got {text!r}')
    return int(parts[0]), int(parts[1])


def parse_args(argv=None):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', type=existing_file)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--images', type=existing_dir, help='folder of images (searched recursively)')
    src.add_argument('--generate', type=positive_int, metavar='N',
                     help='use N generated photograph-like JPEGs (q90) of --size')
    p.add_argument('--size', type=image_size, default=(500, 375),
                   help='WxH of generated JPEGs (default 500x375)')
    p.add_argument('--limit', type=positive_int, default=200, help='images of --images used')
    p.add_argument('--warmup', type=non_negative_int, default=5)
    p.add_argument('--no-reduced', action='store_true',
                   help='leave out the run without reduced-size decoding')
    p.add_argument('--batch', type=positive_int, default=64,
                   help='samples per batch for the colour timing')
    p.add_argument('--colour-device', default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='device of the colour augmentation timing ("none" skips it)')
    p.add_argument('--target', type=positive_float, default=700.0,
                   help='images/s a GPU trains at (default: an iBOT + HSSL ViT-B/16 H100 estimate)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)  # as in a data-loader worker (mmengine's opencv_num_threads=0)
    cv2.setNumThreads(0)
    try:
        return measure(args)
    finally:
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])


def measure(args):
    cpu_cfg = Config.fromfile(args.config).train_dataloader.dataset.pipeline
    cpu_cfg = [dict(t) for t in cpu_cfg]
    dev_cfg = device_augment_pipeline(cpu_cfg)
    cpu = build_transforms(cpu_cfg)
    dev = build_transforms(dev_cfg)
    crop, rest = dev[0], dev[1:]
    full = build_transforms([dict(dev_cfg[0], reduced_decoding=False)])[0]
    fast = build_transforms([dict(dev_cfg[0], backend='cv2')])[0]
    pipelines = {'cpu': lambda path, _: _apply(cpu, path),
                 'device (CPU part)': lambda path, stages: staged_device_part(crop, rest, path, stages),
                 'device (CPU part), cv2 resize': lambda path, _: _apply([fast] + rest, path)}
    if not args.no_reduced:
        pipelines['device (CPU part), full-size decoding'] = \
            lambda path, _: _apply([full] + rest, path)
    with tempfile.TemporaryDirectory() as tmp:
        if args.generate:
            size = args.size
            paths = write_synthetic_jpegs(tmp, args.generate, size=size)
            what = f'{args.generate} generated {size[0]}x{size[1]} JPEGs (q90)'
        else:
            paths = list_images(args.images, args.limit)
            what = f'{len(paths)} images of {args.images}'
        if len(paths) <= args.warmup:
            raise ValueError(f'data_throughput: {len(paths)} images, need more than --warmup {args.warmup}')
        seconds, views, stages = time_paths(paths, pipelines, args.warmup)
    samples = len(paths) - args.warmup
    print(f'{args.config}: {what}, 1 process, 1 thread, {samples} samples per path '
          f'after {args.warmup} warm-up, the paths taking turns image by image')
    rates = {}
    for name in pipelines:
        sps = samples / seconds[name]
        rates[name] = sps
        print(f'{name:>40}: {sps:7.1f} samples/s {views[name] / seconds[name]:8.1f} views/s '
              f'per worker ({1e3 / sps:6.1f} ms per sample), workers for {args.target:g} '
              f'images/s: {int(np.ceil(args.target / sps))}')
    print(f'device (CPU part) / cpu: x{rates["device (CPU part)"] / rates["cpu"]:.2f} samples/s')
    scales = stages.pop('scales')
    total = sum(stages.values())
    print('device path, CPU part, share of each step:')
    for name, dt in stages.items():
        print(f'  {name:>28}: {100 * dt / total:5.1f}%  {1e3 * dt / samples:6.2f} ms per sample')
    counts = {k: scales.count(k) for k in sorted(set(scales))}
    print(f'  JPEG decoding scale 1/k, images per k: {counts}')
    if args.colour_device != 'none':
        dino = cpu_cfg[1]
        sec = colour_time(dino.get('local_crops_number', 10), dino.get('global_crops_size', 224),
                          dino.get('local_crops_size', 96), args.batch, args.colour_device)
        print(f'colour augmentation (DINOColorAugment) on {args.colour_device}: '
              f'{1e3 * sec:.1f} ms per batch of {args.batch} samples '
              f'({1e6 * sec / args.batch:.0f} us per sample)')
        rates['colour_ms'] = 1e3 * sec
    return rates


if __name__ == '__main__':
    run(main)
