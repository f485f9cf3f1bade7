"""Prepare a checkpoint for release: drop the training state, add a sha256 suffix.

    python tools/model_converters/publish.py IN.pth OUT.pth   # writes OUT-<sha256[:8]>.pth

Keeps ``state_dict`` and ``meta`` (of an mmengine checkpoint; a bare state dict
as it is) and drops the optimizer, parameter schedulers and message hub, which
only resuming needs. The suffix is the first 8 hex digits of the sha256 of the
written file (the OpenMMLab model-zoo convention), so a download can be checked.
A mistake ends with one line on stderr (--debug: the traceback).
"""
import os
import os.path as osp

import torch

from hssl.evaluation.feature_cache import sha256_file
from hssl.reliability import safe_load
from hssl.utils.cli import ArgumentParser, existing_file, run

KEEP = ('state_dict', 'meta')


def publish(src: str, out: str) -> str:
    """Write the stripped checkpoint; return its final path (with the hash)."""
    ckpt = safe_load(src)
    if 'state_dict' in ckpt:
        ckpt = {k: ckpt[k] for k in KEEP if k in ckpt}
    stem = out[:-4] if out.endswith('.pth') else out
    tmp = f'{stem}.tmp.pth'
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(ckpt, tmp)
    final = f'{stem}-{sha256_file(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv=None):
    p = ArgumentParser(description='strip training state, add a sha256 suffix')
    p.add_argument('checkpoint', type=existing_file)
    p.add_argument('out')
    args = p.parse_args(argv)
    final = run(publish, args.checkpoint, args.out, prog='publish.py')
    print(f'{args.checkpoint} ({osp.getsize(args.checkpoint) / 2**20:.1f} MiB) -> '
          f'{final} ({osp.getsize(final) / 2**20:.1f} MiB)')


if __name__ == '__main__':
    run(main)
