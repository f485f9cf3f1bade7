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

Without --train-dir/--val-dir the config's ``knn_train_dataset`` and
``knn_test_dataset`` are used. Images go through the config's
``knn_pipeline`` or else DINO's evaluation transform (short edge to
size*256/224, bicubic, centre crop to the backbone's ``img_size``). Features:
the teacher backbone's cls token (``--student`` for the student's).

A mistake ends with one line on stderr (--debug: the traceback).
"""
import json
import math
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from torch import distributed as dist

import hssl  # noqa: F401
# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import (USER_ERRORS, ArgumentParser, debug_requested, error_message,
                            existing_dir, existing_file, fail, non_negative_int, positive_float,
                            positive_int, run)
from hssl.apis import build_model  # noqa: I100
from hssl.engine.config_check import check_cfg_options, check_config
from hssl.utils.checkpoint import check_checkpoint_file
from hssl.evaluation import (build_eval_dataset, extract_dataset_features,
                             feature_cache_key, knn_accuracy, knn_dataset_cfgs, load_features,
                             save_features)
from hssl.evaluation.features import FEATURE_KEYS, sha256_file, state_dict_sha256

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
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--verbose', action='store_true',
                   help="also mmengine's per-parameter initialisation lines (--random-init)")
    args = p.parse_args(argv)
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


def init_distributed():
    """Join the torchrun process group, if launched by torchrun with several processes."""
    if int(os.environ.get('WORLD_SIZE', 1)) > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    if dist.is_initialized():
        return dist.get_rank()
    return 0


def _broadcast(value, rank):
    if not dist.is_initialized():
        return value
    box = [value if rank == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def model_features(args, rank):
    """Features of the model on the two datasets (rank 0; None elsewhere), cached."""
    if args.checkpoint:
        check_checkpoint_file(args.checkpoint)  # a checkpoint at all? (before anything is built)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(args.cfg_options, cfg)
        cfg.merge_from_dict(args.cfg_options)
    check_config(cfg)  # unknown keys and options, before anything is built
    scope = cfg.get('default_scope', 'hssl')
    ds_cfgs = knn_dataset_cfgs(cfg, args.config, args.train_dir, args.val_dir)
    with DefaultScope.overwrite_default_scope(scope):
        datasets = [build_eval_dataset(c) for c in ds_cfgs]
    branch = 'student' if args.student else 'teacher'
    device = args.device or (f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available()
                             else 'cpu')
    # random weights are keyed by their values (they follow the code and the seed, not a file)
    model = build_model(cfg, device=device, verbose=args.verbose) if args.random_init else None
    cache = None
    if rank == 0 and not args.no_cache:
        weights = state_dict_sha256(model) if args.random_init else sha256_file(args.checkpoint)
        key = feature_cache_key(weights, datasets, [ds_cfgs, cfg.model, branch])
        cache = key and osp.join(args.cache_dir, f'{key}.npz')
    cache = _broadcast(cache, rank)
    if cache and osp.isfile(cache):
        if rank == 0:
            print(f'features from the cache: {cache}')
        return load_features(cache) if rank == 0 else None
    model = model or build_model(cfg, args.checkpoint, device=device)
    feats = [extract_dataset_features(model, ds, args.batch_size, args.num_workers,
                                      use_teacher=not args.student, desc=f'{name} features')
             for name, ds in zip(('train', 'test'), datasets)]
    if rank != 0:
        return None
    (train_x, train_y), (test_x, test_y) = feats
    if cache:
        save_features(cache, train_x, train_y, test_x, test_y)
        print(f'features cached at {cache} (evaluate again with --features {cache})')
    return dict(train_features=train_x.numpy(), train_labels=train_y,
                test_features=test_x.numpy(), test_labels=test_y)


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
    rank = 0
    try:
        if args.features:
            feats = load_features(args.features)
        else:
            rank = init_distributed()
            feats = model_features(args, rank)
        if rank != 0:
            return None
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
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    report(result, args.k, feats, args.temperature, args.backend, args.out)
    return result


if __name__ == '__main__':
    run(main)
