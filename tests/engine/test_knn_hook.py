"""KNNEvalHook: k-NN top-1 every N epochs, written to TensorBoard and the message hub."""
import glob
import os
import os.path as osp

import pytest
from mmengine.config import Config

from hssl.apis import build_runner
from hssl.evaluation import extract_features, knn_accuracy
from hssl.registry import DATASETS
from tests import DATA

TINY = osp.join(DATA, 'tiny_digits_config.py')


def knn_sets():
    pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]
    # every 24th / 18th image: all ten classes (the folders are class-sorted)
    return (dict(type='EmbeddedDigits', split='train', pipeline=pipeline,
                 indices=list(range(0, 1437, 24))),
            dict(type='EmbeddedDigits', split='test', pipeline=pipeline,
                 indices=list(range(0, 360, 18))))


def tensorboard_scalars(work_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    [events] = glob.glob(osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    acc = EventAccumulator(events)
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}


def test_hook_logs_knn_every_n_epochs_and_after_the_last(tmp_path, data_root):
    pytest.importorskip('tensorboard')
    train_set, test_set = knn_sets()
    cfg = Config.fromfile(TINY)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'knn_hook_{os.getpid()}'
    cfg.train_cfg.max_epochs = 3
    cfg.train_dataloader.dataset.indices = 16  # 2 iterations per epoch
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    cfg.visualizer.vis_backends = [dict(type='TensorboardVisBackend')]
    cfg.custom_hooks.append(dict(type='KNNEvalHook', interval=2, ks=(5, 10), num_workers=0,
                                 backend='torch', train_dataset=train_set, test_dataset=test_set))
    runner = build_runner(cfg)
    runner.train()

    # the last evaluation is of the final weights: recompute it here
    with_datasets = [DATASETS.build(c) for c in (train_set, test_set)]
    (train_x, train_y), (test_x, test_y) = [
        extract_features(runner.model, ds, num_workers=0) for ds in with_datasets]
    final = knn_accuracy(train_x, train_y, test_x, test_y, ks=(5, 10), backend='torch')
    assert runner.message_hub.get_scalar('knn/top1_k10').current() == pytest.approx(final['top1'][10])

    scalars = tensorboard_scalars(tmp_path)
    assert {'knn/top1_k5', 'knn/top1_k10', 'knn/top5_k5', 'knn/top5_k10'} <= set(scalars)
    iters_per_epoch = len(runner.train_dataloader)
    # epoch 2 (every 2nd) and epoch 3 (the last), at the iteration reached
    assert [step for step, _ in scalars['knn/top1_k10']] == [2 * iters_per_epoch,
                                                             3 * iters_per_epoch]
    assert scalars['knn/top1_k10'][-1][1] == pytest.approx(final['top1'][10], abs=1e-4)
    assert scalars['knn/top5_k5'][-1][1] == pytest.approx(final['top5'][5], abs=1e-4)
    assert 0 <= scalars['knn/top1_k10'][0][1] <= 100


def test_bad_interval_and_bad_folder(tmp_path, data_root):
    train_set, _ = knn_sets()
    with pytest.raises(ValueError, match='interval must be a positive number of epochs'):
        from hssl.engine.hooks import KNNEvalHook
        KNNEvalHook(train_set, train_set, interval=0)
    cfg = Config.fromfile(TINY)
    cfg.work_dir = str(tmp_path)
    cfg.custom_hooks.append(dict(type='KNNEvalHook', train_dataset=train_set, test_dataset=dict(
        type='ImageFolder', data_root=str(tmp_path / 'missing'), pipeline=[])))
    runner = build_runner(cfg)
    with pytest.raises(FileNotFoundError, match='missing'):  # before the first epoch
        runner.train()
