"""configs/benchmarks: each linear / fine-tuning config builds with mmpretrain's
ImageClassifier, loads a converted checkpoint and trains one iteration (reduced
width and data, CPU)."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmpretrain.models.backbones import VisionTransformer

from hssl.apis import build_runner
from hssl.models.backbones.vit import ARCHS
from hssl.registry import MODELS
from hssl.utils.model_converters import backbone_state_dict, to_mmpretrain
from tests import REPO

CONFIGS = ['linear_vits16_100e_in1k', 'linear_vitb16_100e_in1k', 'finetune_vits16_100e_in1k',
           'finetune_vitb16_100e_in1k', 'linear_vitt4_100e_cifar10', 'finetune_vitt4_100e_cifar10']
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
LAYER_DECAY = {'finetune_vits16_100e_in1k': 0.65, 'finetune_vitb16_100e_in1k': 0.60,
               'finetune_vitt4_100e_cifar10': 0.65}


def converted_checkpoint(path, img_size, patch_size):
    """An hssl pre-training checkpoint of a tiny ViT, converted for mmpretrain."""
    torch.manual_seed(0)
    vit = MODELS.build(dict(type='ViT', arch=TINY_ARCH, img_size=img_size, patch_size=patch_size))
    vit.init_weights()
    state = {f'teacher.module.backbone.{k}': v for k, v in vit.state_dict().items()}
    weights = to_mmpretrain(backbone_state_dict({'state_dict': state}))
    torch.save(weights, path)
    return weights['state_dict']


class Record(Hook):
    """Backbone weights before the first and after the last iteration."""

    def before_train(self, runner):
        self.before = {k: v.clone() for k, v in runner.model.backbone.state_dict().items()}
        self.head_before = runner.model.head.fc.weight.detach().clone()

    def after_train(self, runner):
        self.after = {k: v.clone() for k, v in runner.model.backbone.state_dict().items()}


@pytest.mark.parametrize('name,size', [('linear_vits16_100e_in1k', 'small'),
                                       ('linear_vitb16_100e_in1k', 'base'),
                                       ('finetune_vits16_100e_in1k', 'small'),
                                       ('finetune_vitb16_100e_in1k', 'base'),
                                       ('linear_vitt4_100e_cifar10', 'tiny'),
                                       ('finetune_vitt4_100e_cifar10', 'tiny')])
def test_full_size_backbone_is_the_pretrained_vit(name, size):
    """mmpretrain's arch names differ from hssl's ('small' is not ViT-S there)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', f'{name}.py'))
    assert VisionTransformer.arch_zoo[cfg.model.backbone.arch] == ARCHS[size]
    assert cfg.model.head.in_channels == ARCHS[size]['embed_dims']
    if name.startswith('linear'):
        assert cfg.model.backbone.frozen_stages == ARCHS[size]['num_layers']


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_one_iteration_from_a_converted_checkpoint(name, tmp_path, data_root):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', f'{name}.py'))
    backbone = cfg.model.backbone
    expected = converted_checkpoint(str(tmp_path / 'backbone.pth'), backbone.img_size,
                                    backbone.patch_size)
    # Reduced size: the tiny width/depth, 10 classes, 4 digits images per split.
    linear = name.startswith('linear')
    backbone.arch = TINY_ARCH
    cfg.merge_from_dict({
        'model.backbone.init_cfg.checkpoint': str(tmp_path / 'backbone.pth'),
        'model.head.in_channels': 32, 'model.head.num_classes': 10,
        'model.data_preprocessor.num_classes': 10,
        'train_cfg.max_epochs': 1, 'work_dir': str(tmp_path),
        'experiment_name': f'{name}_{os.getpid()}',
    })
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10, save_last=False)
    if linear:
        cfg.model.backbone.frozen_stages = TINY_ARCH['num_layers']
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'test')):
        pipeline = cfg[loader].dataset.pipeline
        cfg[loader].update(batch_size=4, num_workers=0, persistent_workers=False,
                           pin_memory=False)
        cfg[loader].dataset = dict(type='EmbeddedDigits', split=split, pipeline=pipeline,
                                   indices=list(range(0, 360, 90)))
    cfg.test_dataloader = cfg.val_dataloader
    runner = build_runner(cfg)
    record = Record()
    runner.register_hook(record)
    runner.train()

    assert type(runner.model).__name__ == 'ImageClassifier'
    assert runner.iter == 1
    for key, value in expected.items():  # the converted weights were loaded
        torch.testing.assert_close(record.before[key], value, msg=key)
    changed = [k for k in record.before if not torch.equal(record.before[k], record.after[k])]
    head_changed = not torch.equal(record.head_before, runner.model.head.fc.weight)
    assert head_changed
    if linear:
        assert changed == []  # frozen backbone
        trainable = {n for n, p in runner.model.named_parameters() if p.requires_grad}
        assert trainable == {'head.fc.weight', 'head.fc.bias'}
    else:
        assert 'layers.0.attn.qkv.weight' in changed
        decay = LAYER_DECAY[name]
        groups = {g['param_name']: g for g in runner.optim_wrapper.param_groups
                  if 'param_name' in g}  # (plus one unnamed 0-d group, not a model parameter)
        scales = {name: g['lr_scale'] for name, g in groups.items()}
        depth = TINY_ARCH['num_layers'] + 1  # patch embedding: decay^(layers + 1)
        assert scales['backbone.patch_embed.projection.weight'] == pytest.approx(decay ** depth)
        assert scales['backbone.layers.1.attn.qkv.weight'] == pytest.approx(decay)
        assert scales['head.fc.weight'] == 1.0
        assert groups['backbone.layers.0.ln1.weight']['weight_decay'] == 0.0
        assert groups['backbone.layers.0.attn.qkv.weight']['weight_decay'] == 0.05
    top1 = runner.message_hub.get_scalar('val/accuracy/top1').current()  # validation ran
    assert 0 <= top1 <= 100

