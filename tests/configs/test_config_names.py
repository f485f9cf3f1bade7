"""Every shipped config is named by the scheme of configs/README.md, and the name is true.

``{method}_{backbone}[_{head}]_{schedule}_{dataset}.py``: the name is parsed with one
regular expression (named parts), then each part is checked against the loaded config
(model type, base model size and patch, auxiliary head, epochs, data set).
"""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from tests import REPO
from tests.configs import ALIASES

NAME = re.compile(
    r'^(?P<method>(?P<algorithm>dino|ibot|mocov3|mae|byol|simsiam|linear|finetune)'
    r'(?:-(?P<variant>dts|multitask|multitask-shared))?)'
    r'_(?P<backbone>vit(?P<size>t|s|b|mini)(?P<patch>\d+)|resnet50)'
    r'(?:_(?P<head>[a-z0-9]+(?:-[a-z0-9]+)*))?'
    r'_(?P<schedule>(?:(?P<training>deviceaug)-)?(?P<epochs>\d+)e)'
    r'_(?P<dataset>in1k(?:-(?P<pct>\d+)pct)?|cifar10|digits)$')
# the head field: one head and its qualifiers, several concatenated, or a parallel timm model
HEAD = re.compile(
    r'^(?:concat(?P<parts>(?:-[a-z0-9]+){2,})'
    r'|parallel-(?P<model>[a-z0-9]+(?:-[a-z0-9]+)*)'
    r'|(?P<kind>[a-z0-9]+)(?:-d(?P<depth>\d+))?(?P<first_shortcut>-first-shortcut)?'
    r'(?:-(?P<design>head-only|homogeneous|mlp|token-mixer|shared-projector))?)$')

MODEL_TYPES = {'dino': {'DINO'}, 'ibot': {'IBOT'}, 'mae': {'MAE'}, 'byol': {'BYOL'},
               'simsiam': {'SimSiam'}, 'mocov3': {'MoCoV3', 'MultiTaskMoCoV3'},
               'linear': {'ImageClassifier'}, 'finetune': {'ImageClassifier'}}
WIDTHS = {'t': 192, 's': 384, 'b': 768, 'mini': 128}
ARCH_WIDTHS = {'tiny': 192, 'small': 384, 'base': 768}
# what each design qualifier of the head field sets (Tab. XIV-XVI)
DESIGNS = {'head-only': lambda net: net.get('supervision') == 'head_only',
           'homogeneous': lambda net: net.get('supervision') == 'homogeneous',
           'mlp': lambda net: net.auxiliary.get('structure') == 'mlp',
           'token-mixer': lambda net: net.auxiliary.get('structure') == 'token_mixer',
           'shared-projector': lambda net: net.get('share_projector') is True}


def shipped():
    files = glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    files += glob.glob(osp.join(REPO, 'examples', '*', '*.py'))
    return sorted(osp.relpath(p, REPO) for p in files
                  if '/_base_/' not in p and osp.relpath(p, REPO) not in ALIASES)


def parse(path):
    match = NAME.match(osp.basename(path)[:-3])
    assert match, f'{path}: not {{method}}_{{backbone}}[_{{head}}]_{{schedule}}_{{dataset}}.py'
    return match


def test_the_scheme_parses_its_documented_examples_and_rejects_the_old_names():
    m = NAME.match('dino_vits16_convnext-d1_100e_in1k')
    assert m['algorithm'] == 'dino' and m['size'] == 's' and m['patch'] == '16'
    assert m['head'] == 'convnext-d1' and m['epochs'] == '100' and m['dataset'] == 'in1k'
    m = NAME.match('ibot-dts_vitt4_100e_cifar10')
    assert m['variant'] == 'dts' and m['head'] is None and m['dataset'] == 'cifar10'
    m = NAME.match('ibot_vitb16_convnext_deviceaug-100e_in1k')
    assert m['training'] == 'deviceaug' and m['head'] == 'convnext'
    assert NAME.match('linear_vitb16_100e_in1k-10pct')['pct'] == '10'
    for old in ('dino_vits_convnext', 'ibot_vitb_convnext', 'dino_vitp8_digits',
                'linear_vitb16_in1k_10pct', 'mocov3_vits16_multitask'):
        assert NAME.match(old) is None, old


def test_every_shipped_config_is_named_by_the_scheme():
    configs = shipped()
    assert len(configs) > 50
    bad = [p for p in configs if not NAME.match(osp.basename(p)[:-3])]
    assert not bad, f'not named by the scheme of configs/README.md: {bad}'
    names = [osp.basename(p) for p in configs]
    assert len(names) == len(set(names)), 'a name is used in two folders'


def backbone_width(backbone):
    arch = backbone.get('arch')
    if isinstance(arch, str):
        return ARCH_WIDTHS[arch.replace('deit-', '')]
    return arch['embed_dims']


def check_head(head, net):
    aux = net.get('auxiliary')
    if head is None:
        assert aux is None, 'the config has an auxiliary head, the name none'
        return
    assert aux is not None, f'the name has a head ({head}), the config none'
    if aux.type == 'WidthAdaptedHead':  # wide base models: a 1x1 conv before the head
        aux = aux.head
    h = HEAD.match(head)
    assert h, f'head field {head!r}'
    if h['parts']:
        assert aux.type == 'ConcatHeads'
        assert [a.type.lower() for a in aux.heads] == [p + 'head' for p in h['parts'][1:].split('-')]
    elif h['model']:
        assert aux.type == 'ParallelNetwork' and aux.model_name == h['model'].replace('-', '_')
    else:
        assert aux.type.lower() == h['kind'] + 'head'
        # no qualifier: the paper's defaults (also the heads' own), depth 3, first shortcut removed
        assert aux.get('depth', 3) == int(h['depth'] or 3)
        assert aux.get('first_shortcut', False) == bool(h['first_shortcut'])
        assert {d for d, sets in DESIGNS.items() if sets(net)} == ({h['design']} - {None})


@pytest.mark.parametrize('path', shipped())
def test_the_name_says_what_the_config_trains(path, monkeypatch):
    monkeypatch.delenv('CIFAR10_ROOT', raising=False)
    m = parse(path)
    if path.startswith('examples/custom_head/'):
        monkeypatch.syspath_prepend(osp.join(REPO, 'examples', 'custom_head'))
    cfg = Config.fromfile(osp.join(REPO, path))
    model = cfg.model
    assert model.type in MODEL_TYPES[m['algorithm']]
    pretraining = m['algorithm'] not in ('linear', 'finetune')
    backbone = model.network.backbone if pretraining else model.backbone
    if m['backbone'] == 'resnet50':
        assert backbone.type == 'TimmBackbone' and backbone.model_name == 'resnet50'
    else:
        assert backbone_width(backbone) == WIDTHS[m['size']]
        assert backbone.patch_size == int(m['patch'])
    if pretraining:
        check_head(m['head'], model.network)
    else:
        assert m['head'] is None
        # linear probing freezes the whole backbone, fine-tuning none of it
        assert (backbone.frozen_stages > 0) == (m['algorithm'] == 'linear')
    views = str(cfg.train_dataloader.dataset.pipeline)
    if m['variant'] == 'dts':
        assert model.network.get('intermediate')  # the deep-to-shallow branches
    elif pretraining:
        assert not model.network.get('intermediate')
    multitask = m['variant'] in ('multitask', 'multitask-shared')
    assert ('cutout' in views) == multitask  # the per-view-type tasks' cutout views
    if multitask:
        assert model.separate_predictors == (m['variant'] == 'multitask')
    assert cfg.train_cfg.max_epochs == int(m['epochs'])
    on_device = model.data_preprocessor.type == 'MultiViewAugmentPreprocessor'
    assert on_device == (m['training'] == 'deviceaug')
    dataset = cfg.train_dataloader.dataset
    if m['dataset'] == 'digits':
        assert dataset.type == 'EmbeddedDigits'
    elif m['dataset'] == 'cifar10':
        assert dataset.data_root == 'data/cifar10/train' and backbone.img_size == 32
    else:
        assert dataset.data_root == 'data/imagenet/train'
        fraction = dataset.get('label_fraction')
        assert fraction == (int(m['pct']) / 100 if m['pct'] else None)


@pytest.mark.parametrize('alias,target', sorted(ALIASES.items()))
def test_an_alias_is_one_base_line_resolving_to_its_scheme_named_config(alias, target):
    code = [line for line in open(osp.join(REPO, alias)).read().splitlines()
            if line.strip() and not line.startswith('#')]
    assert code == [f"_base_ = './{osp.basename(target)}'"]
    assert osp.dirname(alias) == osp.dirname(target) and target in shipped()
    resolved = Config.fromfile(osp.join(REPO, alias)).to_dict()
    assert resolved == Config.fromfile(osp.join(REPO, target)).to_dict()
