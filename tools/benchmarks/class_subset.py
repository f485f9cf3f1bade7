"""Balanced subset of a class-folder tree, as a tree of symbolic links.

    python tools/benchmarks/class_subset.py SRC DST --per-class N [--seed 0]

Takes N images of every class folder of SRC (``SRC/<class>/<image>``), drawn
with a seeded generator from the sorted file list, and links them into
``DST/<class>/``. Used by ``cifar10_study.sh`` for CPU-sized runs; the images
are not copied. An existing DST is replaced.
"""
import os
import os.path as osp
import shutil

import numpy as np

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, existing_dir, positive_int, run
from hssl.datasets.image_folder import IMAGE_EXTENSIONS


def class_subset(src: str, dst: str, per_class: int, seed: int = 0) -> int:
    """Link ``per_class`` images of each class of ``src`` into ``dst``; returns the count."""
    src = osp.abspath(osp.expanduser(src))
    if not osp.isdir(src):
        raise FileNotFoundError(f'class_subset: {src!r} is not a directory')
    classes = sorted(d for d in os.listdir(src) if osp.isdir(osp.join(src, d)))
    if not classes:
        raise ValueError(f'class_subset: {src!r} has no class sub-folders')
    if osp.isdir(dst):
        shutil.rmtree(dst)
    rng = np.random.default_rng(seed)
    total = 0
    for name in classes:
        files = sorted(f for f in os.listdir(osp.join(src, name))
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        if len(files) < per_class:
            raise ValueError(f'class_subset: class {name!r} of {src!r} has {len(files)} '
                             f'images, fewer than --per-class {per_class}')
        os.makedirs(osp.join(dst, name))
        for i in sorted(rng.choice(len(files), size=per_class, replace=False)):
            os.symlink(osp.join(src, name, files[i]), osp.join(dst, name, files[i]))
        total += per_class
    return total


def main():
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', type=existing_dir)
    p.add_argument('dst')
    p.add_argument('--per-class', type=positive_int, required=True)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    n = class_subset(args.src, args.dst, args.per_class, args.seed)
    print(f'{n} images linked into {args.dst}')


if __name__ == '__main__':
    run(main)
