"""Data pipeline throughput: multi-crop samples and views per second in one
process, i.e. per data-loader worker, so you know how many workers a GPU needs.

    # the ImageNet pipeline (2 x 224 + 10 x 96 px, block masks) on generated
    # 500 x 375 JPEGs (ImageNet's typical size)
    python tools/benchmarks/data_throughput.py configs/ibot/ibot_vitb16_100e_in1k.py --generate 64
    # the CIFAR-10 pipeline on the real images
    python tools/benchmarks/data_throughput.py configs/ibot/ibot_vitt4_cifar10.py \
        --images ~/.cache/hssl-data/cifar10/train --limit 500

Runs the config's ``train_dataloader.dataset.pipeline`` (load + decode,
DINOMultiCrop, BlockMaskGenerator, PackInputs) sample by sample in this
process (no data-loader, no batching or transfer), after ``--warmup`` samples.
``--target`` images/s (e.g. a GPU's measured training throughput) gives the
number of such workers needed to keep up, at one core per worker.
"""
import os
import os.path as osp
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import (ArgumentParser, existing_dir, existing_file, non_negative_int,
                            positive_float, positive_int, run)
from hssl.datasets.image_folder import IMAGE_EXTENSIONS
from hssl.datasets.transforms.multi_crop import build_transforms


def list_images(folder: str, limit: int):
    paths = []
    for root, _, files in os.walk(osp.expanduser(folder), followlinks=True):
        paths += [osp.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS)]
    if not paths:
        raise FileNotFoundError(f'data_throughput: no image below {folder!r}')
    return sorted(paths)[:limit]


def generate_jpegs(folder: str, count: int, size=(500, 375), seed: int = 0):
    """``count`` smooth random JPEGs (q90) of ``size`` (W, H) in ``folder``."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        small = rng.integers(0, 256, (size[1] // 25, size[0] // 25, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize(size, Image.BICUBIC)
        path = osp.join(folder, f'{i:05d}.jpg')
        img.save(path, quality=90)
        paths.append(path)
    return paths


def run(pipeline, paths, warmup: int):
    transforms = build_transforms(pipeline)

    def one(path):
        results = dict(img_path=path)
        for t in transforms:
            results = t(results)
        return results

    for path in paths[:warmup]:
        one(path)
    views = 0
    start = time.perf_counter()
    for path in paths[warmup:]:
        views += len(one(path)['inputs'])
    return len(paths) - warmup, views, time.perf_counter() - start


def main(argv=None):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', type=existing_file)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--images', type=existing_dir, help='folder of images (searched recursively)')
    src.add_argument('--generate', type=positive_int, metavar='N', help='use N generated 500x375 JPEGs')
    p.add_argument('--limit', type=positive_int, default=200, help='images of --images used')
    p.add_argument('--warmup', type=non_negative_int, default=5)
    p.add_argument('--target', type=positive_float, default=700.0,
                   help='images/s a GPU trains at (default: the issue\'s H100 target)')
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # as in a data-loader worker
    pipeline = Config.fromfile(args.config).train_dataloader.dataset.pipeline
    with tempfile.TemporaryDirectory() as tmp:
        if args.generate:
            paths, what = generate_jpegs(tmp, args.generate), f'{args.generate} generated 500x375 JPEGs'
        else:
            paths = list_images(args.images, args.limit)
            what = f'{len(paths)} images of {args.images}'
        if len(paths) <= args.warmup:
            raise ValueError(f'data_throughput: {len(paths)} images, need more than --warmup {args.warmup}')
        samples, views, seconds = run(pipeline, paths, args.warmup)
    sps = samples / seconds
    print(f'{args.config}: {what}, 1 process, 1 thread')
    print(f'{sps:.1f} samples/s, {views / seconds:.1f} views/s per worker '
          f'({views // samples} views per sample, {1e3 / sps:.1f} ms per sample)')
    print(f'workers for {args.target:g} images/s: {int(np.ceil(args.target / sps))}')
    return sps


if __name__ == '__main__':
    run(main)
