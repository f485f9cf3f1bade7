"""Look at the views a config's training pipeline makes: one PNG grid per sample.

    python tools/analysis/browse_dataset.py CONFIG [--output-dir DIR] [--num N | --indices I ...]
        [--scale S] [--seed S] [--cfg-options k=v ...]

Each sample of the config's training data set goes through the config's pipeline (its
packing step left out) and is drawn as one row per kind of view, each with its label:
the global crops, the cutout views (the filled block outlined in yellow) and the local
crops, all at the same scale (``--scale`` screen pixels per image pixel), so their
sizes compare as they are. Where the pipeline masks patches (iBOT's
``BlockMaskGenerator``), the masked patches are tinted red with the patch grid drawn
over the view. The original image is drawn first. Files: ``DIR/sample_<index>.png``.
"""
import argparse
import os
import os.path as osp
import random
import sys

import numpy as np
import torch
from mmengine.config import Config, DictAction
from PIL import Image, ImageDraw

import hssl  # noqa: F401
from hssl.apis.views import build_view_dataset, per_view

MASK_TINT = np.array([255, 40, 40], dtype=np.float32)
PAD, LABEL_H = 6, 14
BACKGROUND, TEXT = (255, 255, 255), (20, 20, 20)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--output-dir', default='work_dirs/browse_dataset')
    which = p.add_mutually_exclusive_group()
    which.add_argument('--num', type=int, default=4, help='the first N samples (default 4)')
    which.add_argument('--indices', type=int, nargs='+', help='these samples')
    p.add_argument('--scale', type=int, default=4,
                   help='screen pixels per image pixel (default 4: a 32 px crop drawn at 128)')
    p.add_argument('--seed', type=int, default=0, help='seed of the random augmentations')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def view_kinds(results: dict) -> list:
    """'global', 'cutout' or 'local' per view: the pipeline's ``view_type`` where it sets
    one, else a view with a cutout box is a cutout view, and the largest views global."""
    types = per_view(results, 'view_type')
    boxes = per_view(results, 'cutout_box')
    largest = max(v.shape[0] * v.shape[1] for v in results['img'])
    kinds = []
    for view, kind, box in zip(results['img'], types, boxes):
        if kind is None:
            kind = 'cutout' if box is not None else (
                'global' if view.shape[0] * view.shape[1] == largest else 'local')
        kinds.append(kind)
    return kinds


def draw_view(view: np.ndarray, scale: int, mask=None, box=None) -> Image.Image:
    """A view (uint8 HWC BGR) enlarged ``scale`` times, its masked patches tinted and its
    cutout block outlined."""
    rgb = view[..., ::-1].astype(np.float32) if view.ndim == 3 else \
        np.repeat(view[..., None], 3, axis=2).astype(np.float32)
    H, W = rgb.shape[:2]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        patch = H // mask.shape[0]
        pixels = np.kron(mask, np.ones((patch, patch), dtype=bool))[..., None]
        rgb = np.where(pixels, 0.45 * rgb + 0.55 * MASK_TINT, rgb)
    img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).resize(
        (W * scale, H * scale), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    if mask is not None:
        patch = H // mask.shape[0]
        for i in range(1, mask.shape[0]):
            draw.line([(0, i * patch * scale), (W * scale, i * patch * scale)], fill=(0, 0, 0))
        for j in range(1, mask.shape[1]):
            draw.line([(j * patch * scale, 0), (j * patch * scale, H * scale)], fill=(0, 0, 0))
    if box is not None:
        top, left, h, w = box
        draw.rectangle([left * scale, top * scale, (left + w) * scale - 1, (top + h) * scale - 1],
                       outline=(255, 220, 0), width=2)
    return img


def sample_grid(original: np.ndarray, results: dict, scale: int, title: str) -> Image.Image:
    """The PNG of one sample: the original, then one row per kind of view, labelled."""
    kinds = view_kinds(results)
    masks, boxes = per_view(results, 'patch_mask'), per_view(results, 'cutout_box')
    rows = [[('original', draw_view(original, max(1, scale // 2)))]]
    for kind in ('global', 'cutout', 'local'):
        row, n = [], 0
        for view, k, mask, box in zip(results['img'], kinds, masks, boxes):
            if k != kind:
                continue
            n += 1
            label = f'{kind} {n}: {view.shape[1]}x{view.shape[0]}'
            if mask is not None:
                label += f', {100 * np.mean(mask):.0f}% masked'
            row.append((label, draw_view(view, scale, mask, box)))
        if row:
            rows.append(row)
    width = max(sum(im.width + PAD for _, im in row) + PAD for row in rows)
    height = LABEL_H + PAD + sum(max(im.height for _, im in row) + LABEL_H + PAD for row in rows)
    canvas = Image.new('RGB', (max(width, 8 * len(title)), height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((PAD, 2), title, fill=TEXT)
    y = LABEL_H + PAD
    for row in rows:
        x = PAD
        for label, im in row:
            canvas.paste(im, (x, y))
            draw.text((x, y + im.height + 1), label, fill=TEXT)
            x += im.width + PAD
        y += max(im.height for _, im in row) + LABEL_H + PAD
    return canvas


def browse(cfg: Config, out_dir: str, indices, scale: int = 4, seed: int = 0, name: str = ''):
    """Write ``out_dir/sample_<i>.png`` for every index; return the paths."""
    dataset = build_view_dataset(cfg)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for index in indices:
        if not 0 <= index < len(dataset):
            raise IndexError(f'sample {index} is out of range: the data set has '
                             f'{len(dataset)} images')
        random.seed(seed + index)
        np.random.seed(seed + index)
        torch.manual_seed(seed + index)
        info = dataset.get_data_info(index)
        results = dataset[index]
        path_in = results.get('img_path', info['img_path'])  # another sample if one was skipped
        original = np.asarray(Image.open(path_in).convert('RGB'))[..., ::-1]
        shown = osp.join(osp.basename(osp.dirname(path_in)), osp.basename(path_in))
        title = f'{name}: sample {index} ({shown})'
        path = osp.join(out_dir, f'sample_{index:05d}.png')
        sample_grid(original, results, scale, title.strip()).save(path, optimize=True)
        paths.append(path)
    return paths


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'browse_dataset.py: error: no config file {args.config}')
    if args.scale < 1:
        sys.exit(f'browse_dataset.py: error: --scale must be >= 1, got {args.scale}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    indices = args.indices if args.indices is not None else range(args.num)
    name = osp.splitext(osp.basename(args.config))[0]
    try:
        paths = browse(cfg, args.output_dir, indices, args.scale, args.seed, name)
    except (FileNotFoundError, IndexError, KeyError, ValueError) as err:
        sys.exit(f'browse_dataset.py: error: {err}')
    print(f'wrote {len(paths)} image(s) to {args.output_dir}: '
          + ', '.join(osp.basename(p) for p in paths))
    return paths


if __name__ == '__main__':
    main()
