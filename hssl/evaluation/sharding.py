"""Evaluation work split over the processes of a ``torchrun`` launch.

Process ``rank`` of ``world`` takes the samples ``rank::world`` of a data set
(round robin: the shards differ in size by one sample at most); rank 0 gathers
the shards back in data set order. Without ``torch.distributed`` initialised
there is one shard, the whole data set.
"""
import os
from contextlib import contextmanager
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import get_dist_info
from torch import distributed as dist
from torch.utils.data import Dataset, Subset

__all__ = ['broadcast', 'gather_shards', 'interleave', 'shard', 'torchrun_group']

Part = Tuple[torch.Tensor, np.ndarray]  # (features (n, D), labels (n,))


@contextmanager
def torchrun_group():
    """Join the process group of a ``torchrun`` launch with several processes
    (NCCL on GPUs, one per ``LOCAL_RANK``; else gloo) for the block, and leave
    it after. Yields this process's rank (0 when not launched by torchrun)."""
    joined = False
    if int(os.environ.get('WORLD_SIZE', 1)) > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
        joined = True
    try:
        yield get_dist_info()[0]
    finally:
        if joined and dist.is_initialized():
            dist.destroy_process_group()


def broadcast(value):
    """Rank 0's ``value`` on every rank (``value`` itself outside a process group)."""
    if get_dist_info()[1] == 1:
        return value
    box = [value if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard(dataset: Dataset) -> Dataset:
    """This rank's samples ``rank::world`` of ``dataset``."""
    rank, world = get_dist_info()
    return dataset if world == 1 else Subset(dataset, range(rank, len(dataset), world))


def interleave(parts: Sequence[Part]) -> Part:
    """Undo the round-robin sharding: rank ``r`` held samples ``r::world``."""
    world = len(parts)
    total = sum(len(p[1]) for p in parts)
    feats = torch.empty(total, parts[0][0].shape[1], dtype=parts[0][0].dtype)
    labels = np.empty(total, dtype=np.int64)
    for rank, (f, y) in enumerate(parts):
        feats[rank::world] = f
        labels[rank::world] = y
    return feats, labels


def gather_shards(part: Part) -> Optional[Part]:
    """Every rank's ``part`` (of :func:`shard`) in data set order on rank 0;
    None on the other ranks. Every rank must call it."""
    rank, world = get_dist_info()
    if world == 1:
        return part
    parts = [None] * world if rank == 0 else None
    dist.gather_object(part, parts, dst=0)
    if rank != 0:
        return None
    width = max(p[0].shape[1] for p in parts)  # an empty shard has width 0
    return interleave([(p[0].reshape(len(p[1]), width), p[1]) for p in parts])
