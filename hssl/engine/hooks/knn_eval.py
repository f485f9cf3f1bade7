"""k-NN accuracy during pre-training (DINO's ``eval_knn``, every N epochs).

After every ``interval``-th epoch (and the last one) the hook extracts the
backbone cls features of a labelled train and test set (teacher by default;
each rank extracts its shard in a distributed run), classifies the test set
with the weighted k-NN of :func:`hssl.evaluation.knn_accuracy` and logs
``knn/top1_k{k}`` (and ``knn/top5_k{k}`` with at least 5 classes) for every k
through the runner's visualizer, i.e. to every configured backend
(``TensorboardVisBackend``, ``WandbVisBackend``, ...) at the current
iteration (the x-axis of the training losses), to the message hub and to the
log. Written straight to the visualizer, as the discrepancy hook does: the
logger hook would only write a message-hub scalar, averaged, at its next
logging iteration, and never the last epoch's.

Example::

    knn_pipeline = [dict(type='LoadImage'), dict(type='ResizeEdge', scale=256, edge='short',
                    backend='pillow', interpolation='bicubic'),
                    dict(type='CenterCrop', crop_size=224), dict(type='PackInputs')]
    custom_hooks = [..., dict(type='KNNEvalHook', interval=10, ks=(20,),
        train_dataset=dict(type='ImageFolder', data_root='data/imagenet/train', pipeline=knn_pipeline),
        test_dataset=dict(type='ImageFolder', data_root='data/imagenet/val', pipeline=knn_pipeline))]
"""
import math
from typing import Sequence, Union

from mmengine.hooks import Hook

from hssl.evaluation import build_eval_dataset, extract_features, knn_accuracy
from hssl.registry import HOOKS
from hssl.utils.model_wrapper import unwrap


@HOOKS.register_module()
class KNNEvalHook(Hook):
    """Args:
        train_dataset: config of the labelled k-NN memory (e.g. an ``ImageFolder``).
        test_dataset: config of the labelled set to classify.
        interval: evaluate after every ``interval`` epochs (and after the last).
        ks: numbers of neighbours.
        temperature: T of the neighbour weight ``exp(sim / T)``.
        use_teacher: features of the teacher backbone (else the student's).
        backend: ``'auto' | 'faiss' | 'torch'`` (see :mod:`hssl.evaluation.knn`).
        batch_size, num_workers: of the extraction loaders.
    """
    priority = 'LOW'

    def __init__(self, train_dataset: dict, test_dataset: dict, interval: int = 1,
                 ks: Union[int, Sequence[int]] = (20,), temperature: float = 0.07,
                 use_teacher: bool = True, backend: str = 'auto', batch_size: int = 128,
                 num_workers: int = 2):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'KNNEvalHook: interval must be a positive number of epochs, '
                             f'got {interval!r}')
        self.dataset_cfgs = dict(train=train_dataset, test=test_dataset)
        self.interval = interval
        self.ks = (ks,) if isinstance(ks, int) else tuple(ks)
        self.temperature = temperature
        self.use_teacher = use_teacher
        self.backend = backend
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.datasets = None

    def before_train(self, runner):
        # Built up front: a wrong folder fails before the first epoch, not after it.
        scope = runner.cfg.get('default_scope', 'hssl')
        self.datasets = {name: build_eval_dataset(cfg, scope)
                         for name, cfg in self.dataset_cfgs.items()}

    def after_train_epoch(self, runner):
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self.evaluate(runner)

    def evaluate(self, runner):
        model = unwrap(runner.model)
        feats = {name: extract_features(model, ds, self.batch_size, self.num_workers,
                                        self.use_teacher, desc=f'k-NN {name} features')
                 for name, ds in self.datasets.items()}
        if runner.rank != 0:  # rank 0 gathered every shard
            return None
        (train_x, train_y), (test_x, test_y) = feats['train'], feats['test']
        result = knn_accuracy(train_x, train_y, test_x, test_y, ks=self.ks,
                              temperature=self.temperature, backend=self.backend)
        scalars = {f'knn/{metric}_k{k}': value for metric, by_k in result.items()
                   for k, value in by_k.items() if not math.isnan(value)}
        epoch = runner.epoch + 1  # epochs finished
        runner.visualizer.add_scalars(scalars, step=runner.iter)
        for name, value in scalars.items():
            runner.message_hub.update_scalar(name, value)
        runner.logger.info(f'Epoch {epoch} k-NN ({"teacher" if self.use_teacher else "student"}, '
                           f'{len(test_y)} images, memory {len(train_y)}): '
                           + ', '.join(f'{n.split("/")[1]} {v:.2f}' for n, v in scalars.items()))
        return result
