"""N_s and sIoU (HSSL Eq. 3-4, Tab. II): what the auxiliary head solves that the base model cannot.

From models (k-NN on frozen teacher features, as Tab. II):

    python tools/analysis/complementarity.py \\
        --baseline-config CFG_B --baseline-checkpoint CKPT_B \\
        --config CFG_H --checkpoint CKPT_H [--head NAME] \\
        [--train-dir DIR --val-dir DIR] [--k 20] [--temperature 0.07] \\
        [--backend auto|faiss|torch] [--student] [--save-predictions DIR] [--out RESULT.json]

From saved predictions (each an .npz with ``predictions`` and ``labels`` of the
same test samples, e.g. written by ``--save-predictions``):

    python tools/analysis/complementarity.py --predictions BASELINE.npz HSSL.npz AUX.npz

Models: the baseline's base model gives B1, the HSSL model's base model B2 and
its auxiliary head H (``--head`` names one of several side-by-side heads).
Features: the backbone cls token, and for H the head's cls output (the
normalised mean of its output grid); teacher by default. The images as in
``tools/knn_eval.py``: the folders with the config's ``knn_pipeline`` or DINO's
resize + centre crop; without ``--train-dir/--val-dir`` the configs'
``knn_train_dataset`` / ``knn_test_dataset``.
"""
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import (ArgumentParser, error_message, existing_dir, existing_file, fail,
                            non_negative_int, positive_float, positive_int, run)
import hssl  # noqa: F401
from hssl.apis import build_model
from hssl.evaluation import extract_features, knn_dataset_cfgs
from hssl.evaluation.complementarity import (AuxiliaryHeadFeatures, complementarity,
                                             knn_top1_predictions)

NAMES = ('baseline', 'hssl_base', 'hssl_aux')


def parse_args():
    p = ArgumentParser(description='N_s and sIoU (HSSL Eq. 3-4)')
    p.add_argument('--predictions', nargs=3, metavar=('BASELINE', 'HSSL', 'AUX'),
                   help='saved predictions (.npz with "predictions" and "labels")')
    p.add_argument('--baseline-config', type=existing_file)
    p.add_argument('--baseline-checkpoint', type=existing_file)
    p.add_argument('--config', type=existing_file, help='config of the HSSL model')
    p.add_argument('--checkpoint', type=existing_file, help='checkpoint of the HSSL model')
    p.add_argument('--head', help='auxiliary head name when the model has several')
    p.add_argument('--train-dir', type=existing_dir, help='labelled class-folder tree of the k-NN memory')
    p.add_argument('--val-dir', type=existing_dir, help='labelled class-folder tree to classify (U)')
    p.add_argument('--k', type=positive_int, default=20)
    p.add_argument('--temperature', type=positive_float, default=0.07)
    p.add_argument('--backend', default='auto', choices=['auto', 'faiss', 'torch'])
    p.add_argument('--student', action='store_true', help='student features instead of teacher')
    p.add_argument('--batch-size', type=positive_int, default=128)
    p.add_argument('--num-workers', type=non_negative_int, default=2)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--save-predictions', metavar='DIR',
                   help='write baseline.npz, hssl_base.npz, hssl_aux.npz here')
    p.add_argument('--out', help='write the result as json here')
    args = p.parse_args()
    model_args = [args.baseline_config, args.baseline_checkpoint, args.config, args.checkpoint]
    if args.predictions and any(model_args):
        p.error('give --predictions or the models, not both')
    if not args.predictions and not all(model_args):
        p.error('give --predictions, or all of --baseline-config --baseline-checkpoint '
                '--config --checkpoint')
    if (args.train_dir is None) != (args.val_dir is None):
        p.error('--train-dir and --val-dir go together')
    return args


def load_predictions(path: str):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such predictions file')
    with np.load(path) as data:
        missing = [k for k in ('predictions', 'labels') if k not in data.files]
        if missing:
            raise KeyError(f'{path} has no {missing} array(s); it has {data.files}')
        return data['predictions'], data['labels']


def features(model, cfg, path, args, desc):
    scope = cfg.get('default_scope', 'hssl')
    return [extract_features(model, ds, args.batch_size, args.num_workers,
                             use_teacher=not args.student, desc=f'{desc} {split}', scope=scope)
            for ds, split in zip(knn_dataset_cfgs(cfg, path, args.train_dir, args.val_dir),
                                 ('train', 'test'))]


def predictions_from_models(args):
    """{name: (predictions, labels)} of the baseline, HSSL base and HSSL head."""
    jobs = []
    for name, cfg_path, ckpt in (('baseline', args.baseline_config, args.baseline_checkpoint),
                                 ('hssl', args.config, args.checkpoint)):
        cfg = Config.fromfile(cfg_path)
        model = build_model(cfg, ckpt, device=args.device)
        if name == 'baseline':
            jobs.append(('baseline', model, cfg, cfg_path))
        else:
            jobs.append(('hssl_base', model, cfg, cfg_path))
            jobs.append(('hssl_aux', AuxiliaryHeadFeatures(model, args.head), cfg, cfg_path))
    result = {}
    for name, model, cfg, cfg_path in jobs:
        (train_x, train_y), (test_x, test_y) = features(model, cfg, cfg_path, args, name)
        pred = knn_top1_predictions(train_x, train_y, test_x, args.k, args.temperature,
                                    args.backend, num_classes=int(max(train_y.max(),
                                                                      test_y.max())) + 1)
        result[name] = (pred, test_y)
    return result


def main():
    args = parse_args()
    try:
        if args.predictions:
            preds = {n: load_predictions(p) for n, p in zip(NAMES, args.predictions)}
            sources = dict(zip(NAMES, args.predictions))
        else:
            preds = predictions_from_models(args)
            sources = dict(baseline=args.baseline_checkpoint, hssl_base=args.checkpoint,
                           hssl_aux=f'{args.checkpoint} (head {args.head or "aux"})')
        labels = preds['baseline'][1]
        for name in NAMES[1:]:
            if not np.array_equal(preds[name][1], labels):
                raise ValueError(f'the labels of {sources[name]} differ from those of '
                                 f'{sources["baseline"]}: not the same test samples in the '
                                 'same order')
        result = complementarity(labels, *(preds[n][0] for n in NAMES))
    except (FileNotFoundError, KeyError, ValueError) as e:
        fail(error_message(e))
    if args.save_predictions:
        os.makedirs(args.save_predictions, exist_ok=True)
        for name in NAMES:
            np.savez(osp.join(args.save_predictions, f'{name}.npz'),
                     predictions=preds[name][0], labels=preds[name][1])
    print(f'U: {result["num_samples"]} test samples'
          + ('' if args.predictions else f' (k-NN, k={args.k}, T={args.temperature})'))
    print(f'top-1: baseline base model (B1) {result["top1_baseline"]:.2f}%, HSSL base model (B2) '
          f'{result["top1_hssl"]:.2f}%, HSSL auxiliary head (H) {result["top1_aux"]:.2f}%')
    print(f'N_s  = |H ∩ (U - B1)| = {result["N_s"]}   (Eq. 3)')
    print(f'sIoU = |B2 ∩ (U - B1) ∩ H| / |B2 ∩ (U - B1)| = {result["num_both"]} / '
          f'{result["num_b2_not_b1"]} = {result["sIoU"]:.1f}%   (Eq. 4)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(result, sources=sources), f, indent=1)


if __name__ == '__main__':
    run(main)
