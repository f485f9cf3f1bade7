"""Weighted k-NN evaluation (DINO / iBOT ``eval_knn``), two modes.

From a model (features extracted, then cached)::

    python tools/knn_eval.py CONFIG CHECKPOINT --train-dir DIR --val-dir DIR
        [--teacher | --student] [--k 10 20 100 200] [--temperature 0.07]
        [--backend auto|faiss|torch] [--out RESULT.json]
    python tools/knn_eval.py CONFIG --random-init ...   # the same network untrained
    torchrun --nproc_per_node 8 tools/knn_eval.py CONFIG CHECKPOINT ...  # sharded extraction

From features (the FAISS k-NN benchmark mode)::

    python tools/knn_eval.py --features FEATS.npz [--k ...] [--out RESULT.json]

FEATS.npz holds ``train_features`` (N, D), ``train_labels`` (N,),
``test_features`` (M, D), ``test_labels`` (M,); the feature cache files of the
first mode are such files.

``--label-fraction 0.01`` (or 0.1, Tab. X) keeps a seeded, class-balanced
fraction of the training set as the k-NN memory (``--label-seed``, default 0)
and writes its file list (``<file> <label>`` per line; sample indices in
--features mode) next to ``--out``, as ``<out>.label_subset.txt``.

Without --train-dir/--val-dir the config's ``knn_train_dataset`` and
``knn_test_dataset`` are used. Images go through the config's
``knn_pipeline`` or else DINO's evaluation transform (short edge to
size*256/224, bicubic, centre crop to the backbone's ``img_size``). Features:
the teacher backbone's cls token (``--student`` for the student's).

A mistake ends with one line on stderr (--debug: the traceback).

This script checks the arguments and prints; extracting (sharded), caching and
the k-NN are ``hssl.apis.model_knn_features`` and
``hssl.evaluation.knn_accuracy`` (docs/user_guides/evaluation.md, "From Python").
"""
import json
import math
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction

import hssl  # noqa: F401
# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import (USER_ERRORS, ArgumentParser, debug_requested, error_message,
                            existing_dir, existing_file, fail, non_negative_int, positive_float,
                            positive_int, run)
from hssl.apis import model_knn_features  # noqa: I100
from hssl.engine.config_check import check_cfg_options, check_config
from hssl.evaluation import FEATURE_KEYS, knn_accuracy, load_features
from hssl.evaluation.label_fraction import balanced_subset, write_subset_list
from hssl.evaluation.sharding import torchrun_group
from hssl.reliability.checkpoint_files import check_checkpoint_file

DEFAULT_CACHE = osp.join(osp.expanduser('~'), '.cache', 'hssl', 'knn_features')


def parse_args(argv=None):
    p = ArgumentParser(description='k-NN evaluation of a backbone or of saved features')
    p.add_argument('config', nargs='?', type=existing_file, help='model config (not with --features)')
    p.add_argument('checkpoint', nargs='?', type=existing_file, help='checkpoint to evaluate')
    p.add_argument('--features', metavar='FEATS.npz', type=existing_file,
                   help='evaluate saved features instead of a model (benchmark mode)')
    p.add_argument('--random-init', action='store_true',
                   help='evaluate the network at (seeded) random initialisation')
    p.add_argument('--train-dir', type=existing_dir, help='labelled class-folder tree of the k-NN memory')
    p.add_argument('--val-dir', type=existing_dir, help='labelled class-folder tree to classify')
    branch = p.add_mutually_exclusive_group()
    branch.add_argument('--teacher', action='store_true',
                        help="use the teacher's backbone (the default where there is a teacher)")
    branch.add_argument('--student', action='store_true', help="use the student's backbone")
    p.add_argument('--k', type=positive_int, nargs='+', default=[10, 20, 100, 200])
    p.add_argument('--temperature', type=positive_float, default=0.07)
    p.add_argument('--backend', default='auto', choices=['auto', 'faiss', 'torch'])
    p.add_argument('--batch-size', type=positive_int, default=128)
    p.add_argument('--num-workers', type=non_negative_int, default=2)
    p.add_argument('--device', default=None,
                   help='for extraction and search; default: cuda when available, else cpu')
    p.add_argument('--cache-dir', default=DEFAULT_CACHE,
                   help=f'feature cache, keyed by checkpoint and data (default {DEFAULT_CACHE})')
    p.add_argument('--no-cache', action='store_true', help='neither read nor write the cache')
    p.add_argument('--out', help='write {"top1": {"k": %%}, "top5": {"k": %%}} here')
    p.add_argument('--label-fraction', type=float, metavar='F',
                   help='k-NN memory: a seeded, class-balanced fraction F of the training set '
                        '(0.01, 0.1: Tab. X); its file list is written next to --out')
    p.add_argument('--label-seed', type=int, default=0, help='seed of the --label-fraction subset')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--verbose', action='store_true',
                   help="also mmengine's per-parameter initialisation lines (--random-init)")
    args = p.parse_args(argv)
    if args.label_fraction is not None:
        if not 0.0 < args.label_fraction <= 1.0:
            p.error(f'--label-fraction must be in (0, 1], got {args.label_fraction}')
        if not args.out:
            p.error('--label-fraction needs --out (the subset\'s file list is written next to it)')
    if args.features:
        if args.config or args.checkpoint or args.random_init:
            p.error('--features evaluates saved features: give no CONFIG, CHECKPOINT or --random-init')
        return args
    if args.config is None:
        p.error('give CONFIG and CHECKPOINT (or --random-init), or --features FEATS.npz')
    if (args.checkpoint is None) == (not args.random_init):
        p.error('give a CHECKPOINT or --random-init (one of them)')
    if (args.train_dir is None) != (args.val_dir is None):
        p.error('--train-dir and --val-dir go together')
    return args


def model_features(args):
    """The model's features (rank 0; None elsewhere): the inputs checked here,
    then extracted over the torchrun processes and cached by the package."""
    if args.checkpoint:
        check_checkpoint_file(args.checkpoint)  # a checkpoint at all? (before anything is built)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(args.cfg_options, cfg)
        cfg.merge_from_dict(args.cfg_options)
    check_config(cfg)  # unknown keys and options, before anything is built
    return model_knn_features(
        cfg, args.checkpoint, config_path=args.config, train_dir=args.train_dir,
        val_dir=args.val_dir, use_teacher=not args.student, device=args.device,
        batch_size=args.batch_size, num_workers=args.num_workers,
        cache_dir=None if args.no_cache else args.cache_dir, verbose=args.verbose)


def label_subset(feats, fraction, seed, out):
    """The features with the k-NN memory cut to the balanced subset; its list written."""
    labels = feats['train_labels']
    keep = balanced_subset(labels, fraction, seed)
    path = f'{osp.splitext(out)[0]}.label_subset.txt'
    write_subset_list(path, keep, labels, feats.get('train_files'))
    print(f'label fraction {fraction} (seed {seed}): memory of {len(keep)} of {len(labels)} '
          f'images, {len(set(labels[keep].tolist()))} classes; list in {path}')
    return dict(feats, train_features=feats['train_features'][keep], train_labels=labels[keep])


def report(result, ks, feats, temperature, backend, out=None):
    """Print the top-1 / top-5 table; write the JSON (percent; null for n/a)."""
    print(f'k-NN on {len(feats["test_labels"])} images, memory of {len(feats["train_labels"])}, '
          f'T={temperature}, backend {backend}')
    print(f'{"k":>6} {"top-1":>8} {"top-5":>8}')
    for k in dict.fromkeys(ks):
        top5 = result['top5'][k]
        print(f'{k:>6} {result["top1"][k]:>8.2f} {"n/a" if math.isnan(top5) else f"{top5:.2f}":>8}')
    if out:
        table = {m: {str(k): (None if math.isnan(v) else v) for k, v in r.items()}
                 for m, r in result.items()}
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(table, f, indent=1)


def main(argv=None):
    args = parse_args(argv)
    try:
        with torchrun_group() as rank:
            feats = load_features(args.features) if args.features else model_features(args)
        if rank != 0:
            return None
        if args.label_fraction is not None:
            feats = label_subset(feats, args.label_fraction, args.label_seed, args.out)
        # On a GPU the search runs there: faiss-gpu if installed, else the torch backend
        # ('auto'); a CPU faiss copies the features back to the host.
        device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
        arrays = [torch.as_tensor(feats[key]).to(device) for key in FEATURE_KEYS]
        result = knn_accuracy(*arrays, ks=args.k, temperature=args.temperature,
                              backend=args.backend)
    except USER_ERRORS as err:  # one line (an unreadable image: the file, from the main process)
        if debug_requested(argv):
            raise
        message = error_message(err)
        where = f'{args.features}: ' if args.features and str(args.features) not in message else ''
        fail(where + message, 'knn_eval.py')
    report(result, args.k, feats, args.temperature, args.backend, args.out)
    return result


if __name__ == '__main__':
    run(main)
