"""The iBOT recipes: the ViT-B/16 recipe as shipped, reduced-size iterations, a Runner run."""
import os
import os.path as osp
import tarfile

import pytest
import torch
from mmengine.config import Config

from hssl.apis import build_runner
from hssl.registry import MODELS
from hssl.reliability.checkpoint_files import safe_load
from tests import DATA, REPO

CONFIGS = ['ibot/ibot_vits16_100e_in1k.py', 'ibot/ibot_vitb16_100e_in1k.py',
           'hssl/ibot_vits16_convnext_100e_in1k.py', 'hssl/ibot_vitb16_convnext_100e_in1k.py',
           'ibot/ibot_vitt4_100e_cifar10.py', 'hssl/ibot_vitt4_convnext_100e_cifar10.py']


def test_hssl_recipes_differ_from_their_baselines_only_by_the_head(load):
    for base, hssl in (('ibot/ibot_vitb16_100e_in1k.py', 'hssl/ibot_vitb16_convnext_100e_in1k.py'),
                       ('ibot/ibot_vitt4_100e_cifar10.py', 'hssl/ibot_vitt4_convnext_100e_cifar10.py')):
        b, h = load(base), load(hssl)
        assert h.model.network.pop('auxiliary') == dict(type='ConvNeXtHead', depth=3,
                                                         first_shortcut=False)
        assert h.model == b.model and h.train_dataloader == b.train_dataloader
        assert h.optim_wrapper == b.optim_wrapper and h.custom_hooks == b.custom_hooks


def masks_for(views, patch):
    g = torch.Generator().manual_seed(0)
    return [torch.rand(v.shape[0], v.shape[2] // patch, v.shape[3] // patch, generator=g) < 0.3
            for v in views[:2]]


def test_ibot_vitb_convnext_unchanged_is_vitb16_with_depth3_head_and_trains_a_step(load):
    cfg = load('hssl/ibot_vitb16_convnext_100e_in1k.py')
    model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.student.backbone.parameters())
    assert 85.5e6 < params < 87.0e6  # ViT-B/16: 86 M (with the mask token)
    head = model.student.aux_heads['aux']
    assert type(head).__name__ == 'ConvNeXtHead' and head.depth == 3 and not head.first_shortcut
    assert model.student.projectors['base'].out_channels == 8192
    views = [torch.randn(2, 3, 224, 224)] * 2
    losses = model.loss(views, None, masks=masks_for(views, 16))
    sum(losses.values()).backward()
    assert set(losses) == {'loss_cls_base', 'loss_cls_aux', 'loss_patch_base'}
    assert model.student.backbone.mask_token.grad.abs().sum() > 0


@pytest.mark.parametrize('name', CONFIGS)
def test_every_ibot_config_trains_an_iteration_at_reduced_size(name, load):
    cfg = load(name)
    net = cfg.model.network
    net.backbone.update(arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                  feedforward_channels=64, _delete_=True),
                        img_size=32, patch_size=4)
    net.backbone.pop('_delete_', None)
    net.backbone.arch.pop('_delete_', None)
    net.projector.update(out_channels=64, hidden_channels=32, bottleneck_channels=16)
    cfg.model.loss.out_channels = cfg.model.patch_loss.out_channels = 64
    model = MODELS.build(cfg.model)
    views = [torch.randn(2, 3, 32, 32)] * 2 + [torch.randn(2, 3, 16, 16)] * 2
    losses = model.loss(views, None, masks=masks_for(views, 4))
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())


def test_ibot_hssl_trains_with_the_runner_on_masked_views(tmp_path, data_root):
    cfg = Config.fromfile(osp.join(DATA, 'tiny_ibot_digits_config.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.optim_wrapper.accumulative_counts = 2  # 4 iterations, 2 optimizer steps
    cfg.experiment_name = f'ibot_{os.getpid()}'
    runner = build_runner(cfg)
    runner.train()
    assert runner.optim_wrapper.optimizer.state_dict()['state'][0]['step'] == 2
    state = safe_load(osp.join(tmp_path, 'epoch_1.pth'))['state_dict']
    assert state['patch_criteria.aux.center'].abs().sum() > 0  # patch-level HSSL target
    assert not torch.equal(state['student.backbone.mask_token'],
                           state['teacher.module.backbone.mask_token'])


@pytest.mark.slow
def test_cifar10_ibot_hssl_trains_a_few_iterations(tmp_path, load):
    """Real data: needs ../shared/data/cifar10-jpeg.tar.gz (or CIFAR10_ROOT)."""
    root = os.environ.get('CIFAR10_ROOT')
    if not root:
        archive = osp.join(REPO, '..', 'shared', 'data', 'cifar10-jpeg.tar.gz')
        if not osp.exists(archive):
            pytest.skip('no CIFAR-10 copy: set CIFAR10_ROOT or provide ../shared/data')
        with tarfile.open(archive) as tar:
            tar.extractall(tmp_path / 'data', filter='data')
        root = str(tmp_path / 'data' / 'cifar10')
    cfg = load('hssl/ibot_vitt4_convnext_100e_cifar10.py')
    for key in ('train_dataloader.dataset', 'knn_train_dataset', 'knn_test_dataset'):
        node = cfg
        for part in key.split('.'):
            node = node[part]
        node.data_root = node.data_root.replace('data/cifar10', root)
    cfg.merge_from_dict({'train_dataloader.batch_size': 16, 'train_dataloader.num_workers': 2,
                         'train_cfg.max_epochs': 1, 'default_hooks.logger.interval': 1})
    cfg.train_dataloader.dataset.indices = 64
    cfg.work_dir = str(tmp_path / 'work')
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 4
