"""k-NN evaluation of a pre-trained backbone (DINO's weighted k-NN).

    python tools/knn_eval.py CONFIG CHECKPOINT [--train-dir DIR --val-dir DIR]
        [--k 10 20 100 200] [--temperature 0.07] [--backend auto|faiss|torch]
        [--student] [--out RESULT.json]
    python tools/knn_eval.py CONFIG --random-init ...   # the same network untrained

Without --train-dir/--val-dir the config's ``knn_train_dataset`` and
``knn_test_dataset`` are used. Features: the teacher backbone's cls token
(``--student`` for the student's), L2-normalised.
"""
import argparse
import json

import torch
from mmengine.config import Config, DictAction

import hssl  # noqa: F401
from hssl.apis import build_loader, build_model, extract_features
from hssl.evaluation import knn_accuracy


def parse_args():
    p = argparse.ArgumentParser(description='k-NN evaluation of a backbone')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', help='checkpoint to evaluate')
    p.add_argument('--random-init', action='store_true',
                   help='evaluate the network at (seeded) random initialisation')
    p.add_argument('--train-dir', help='labelled class-folder tree of the k-NN memory')
    p.add_argument('--val-dir', help='labelled class-folder tree to classify')
    p.add_argument('--k', type=int, nargs='+', default=[10, 20, 100, 200])
    p.add_argument('--temperature', type=float, default=0.07)
    p.add_argument('--backend', default='auto', choices=['auto', 'faiss', 'torch'])
    p.add_argument('--student', action='store_true', help="use the student's backbone")
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--num-workers', type=int, default=2)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', help='write {"top1": {k: %}, "top5": {k: %}} here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args()
    if (args.checkpoint is None) == (not args.random_init):
        p.error('give a CHECKPOINT or --random-init (one of them)')
    if (args.train_dir is None) != (args.val_dir is None):
        p.error('--train-dir and --val-dir go together')
    return args


def dataset_cfgs(cfg, args):
    if args.train_dir:
        pipeline = cfg.get('knn_pipeline') or [dict(type='LoadImage'),
                                               dict(type='PackInputs')]
        return [dict(type='ImageFolder', data_root=d, pipeline=pipeline)
                for d in (args.train_dir, args.val_dir)]
    if 'knn_train_dataset' not in cfg or 'knn_test_dataset' not in cfg:
        raise KeyError(f'{args.config} defines no knn_train_dataset / knn_test_dataset: '
                       'give --train-dir and --val-dir')
    return [cfg.knn_train_dataset, cfg.knn_test_dataset]


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg, None if args.random_init else args.checkpoint, device=args.device)
    scope = cfg.get('default_scope', 'hssl')
    feats = []
    for name, ds in zip(('train', 'test'), dataset_cfgs(cfg, args)):
        loader = build_loader(ds, args.batch_size, args.num_workers, scope)
        feats.append(extract_features(model, loader, use_teacher=not args.student,
                                      desc=f'{name} features'))
    (train_x, train_y), (test_x, test_y) = feats
    result = knn_accuracy(train_x, train_y, test_x, test_y, ks=args.k,
                          temperature=args.temperature, backend=args.backend)
    print(f'k-NN on {len(test_y)} images, memory of {len(train_y)}, T={args.temperature}')
    print(f'{"k":>6} {"top-1":>8} {"top-5":>8}')
    for k in args.k:
        print(f'{k:>6} {result["top1"][k]:>8.2f} {result["top5"][k]:>8.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump({m: {str(k): v for k, v in r.items()} for m, r in result.items()}, f, indent=1)


if __name__ == '__main__':
    main()
