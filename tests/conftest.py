"""Fixtures shared by the whole suite: the hssl scope, a data root, training progress,
tiny model configs and the checks the recipe tests share. A factory fixture returns the
callable (session-scoped: it holds no state, and module-scoped fixtures can use it), so a
test asks for ``tiny_dino`` and calls ``tiny_dino(auxiliary=...)``."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import hssl  # noqa: F401
from hssl.utils import register_all_modules
from tests import REPO

register_all_modules(init_default_scope=False)
torch.set_num_threads(min(2, torch.get_num_threads()))

DEPTH3_CONVNEXT = dict(type='ConvNeXtHead', depth=3, first_shortcut=False)


@pytest.fixture(autouse=True)
def hssl_scope():
    with DefaultScope.overwrite_default_scope('hssl'):
        yield


@pytest.fixture
def progress(request):
    """``progress(step, total)``: the training progress a model reads while it
    trains (the runner's message hub: ``iter``, ``max_iters``)."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance(f'test-progress-{request.node.nodeid}')

    def set_progress(step, total):
        hub.update_info('iter', step)
        hub.update_info('max_iters', total)
    return set_progress


@pytest.fixture
def data_root(tmp_path_factory, monkeypatch):
    """The embedded digits in a per-session temporary cache."""
    root = tmp_path_factory.getbasetemp() / 'hssl-data'
    monkeypatch.setenv('HSSL_DATA_ROOT', str(root))
    return root


def _tiny_vit(**kw):
    cfg = dict(type='ViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                     feedforward_channels=64),
               img_size=32, patch_size=4)
    cfg.update(kw)
    return cfg


def _tiny_dino(auxiliary=None, out_channels=64, **network_kw):
    return dict(
        type='DINO',
        num_global_views=2,
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0, 0, 0],
                               std=[255, 255, 255], to_rgb=True),
        network=dict(type='HeterogeneousNetwork', backbone=_tiny_vit(),
                     projector=dict(type='DINOProjectionHead', out_channels=out_channels,
                                    hidden_channels=32, bottleneck_channels=16),
                     auxiliary=auxiliary, **network_kw),
        loss=dict(type='DINOLoss', out_channels=out_channels))


def _build(cfg, seed=0):
    from hssl.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.fixture(scope='session')
def tiny_vit():
    """``tiny_vit(**overrides)``: the config of a 2-block, 32-wide ViT on 32x32 images."""
    return _tiny_vit


@pytest.fixture(scope='session')
def tiny_dino():
    """``tiny_dino(auxiliary=None, out_channels=64, **network_kw)``: the config of DINO
    on ``tiny_vit`` (HSSL when ``auxiliary`` names heads)."""
    return _tiny_dino


@pytest.fixture(scope='session')
def build():
    """``build(cfg, seed=0)``: a model built from ``cfg`` and initialised, torch seeded first."""
    return _build


@pytest.fixture(scope='session')
def fake_runner():
    """``fake_runner(model, accumulate=1, max_iters=10, epoch=0)``: what a hook reads of a
    runner (model, an AdamW OptimWrapper over the trainable parameters, iter, epoch)."""
    from mmengine.optim import OptimWrapper

    def make(model, accumulate=1, max_iters=10, epoch=0):
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
        wrapper = OptimWrapper(optimizer, accumulative_counts=accumulate)
        wrapper.initialize_count_status(model, 0, max_iters)
        hub = SimpleNamespace(update_scalar=lambda *a, **k: None)
        return SimpleNamespace(model=model, optim_wrapper=wrapper, iter=0, max_iters=max_iters,
                               epoch=epoch, message_hub=hub)
    return make


def _load(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


@pytest.fixture(scope='session')
def load():
    """``load(name)``: the config ``configs/<name>``."""
    return _load


@pytest.fixture(scope='session')
def assert_differs_only_by_head():
    """``assert_differs_only_by_head(base, recipe, head=DEPTH3_CONVNEXT)``: the HSSL
    config ``recipe`` is the baseline config ``base`` plus ``head``, nothing else."""
    def check(base: str, recipe: str, head: dict = DEPTH3_CONVNEXT) -> None:
        b, h = _load(base), _load(recipe)
        assert h.model.network.pop('auxiliary') == head
        assert h.model == b.model and h.train_dataloader == b.train_dataloader
        assert h.optim_wrapper == b.optim_wrapper and h.custom_hooks == b.custom_hooks
        assert h.param_scheduler == b.param_scheduler and h.train_cfg == b.train_cfg
    return check
