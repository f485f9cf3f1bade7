"""Print a config as the tools see it: bases merged, variables and ``--cfg-options`` applied.

    python tools/analysis/print_config.py CONFIG [--cfg-options k=v ...] [--out FILE.py]

``--out`` also writes it as a config file that ``tools/train.py`` accepts.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_cfg.max_epochs=10')
    p.add_argument('--out', help='also write the resolved config to this .py file')
    args = p.parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'print_config.py: error: no config file {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    overrides = ' '.join(f'{k}={v!r}' for k, v in (args.cfg_options or {}).items())
    print(f'# {args.config}' + (f' with --cfg-options {overrides}' if overrides else ''))
    print(cfg.pretty_text)
    if args.out:
        cfg.dump(args.out)
        print(f'# written to {args.out}')
    return cfg


if __name__ == '__main__':
    main()
