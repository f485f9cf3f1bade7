import os

import pytest
import torch
from mmengine.registry import DefaultScope

import hssl  # noqa: F401
from hssl.utils import register_all_modules

register_all_modules(init_default_scope=False)
torch.set_num_threads(min(2, torch.get_num_threads()))


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


def tiny_vit(**kw):
    cfg = dict(type='ViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                     feedforward_channels=64),
               img_size=32, patch_size=4)
    cfg.update(kw)
    return cfg


def tiny_dino(auxiliary=None, out_channels=64, **network_kw):
    return dict(
        type='DINO',
        num_global_views=2,
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0, 0, 0],
                               std=[255, 255, 255], to_rgb=True),
        network=dict(type='HeterogeneousNetwork', backbone=tiny_vit(),
                     projector=dict(type='DINOProjectionHead', out_channels=out_channels,
                                    hidden_channels=32, bottleneck_channels=16),
                     auxiliary=auxiliary, **network_kw),
        loss=dict(type='DINOLoss', out_channels=out_channels))


def build(cfg, seed=0):
    """A model built from ``cfg`` and initialised, with torch seeded first."""
    from hssl.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
