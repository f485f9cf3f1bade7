"""tools/model_converters: converted weights give the hssl backbone's features in
timm and in mmpretrain; unknown layouts are refused; publish strips and hashes."""
import hashlib
import importlib.util
import os.path as osp

import pytest
import timm
import torch
from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VisionTransformer

from hssl.registry import MODELS
from hssl.utils import safe_load
from hssl.utils.model_converters import backbone_state_dict, timm_model_name
from tests import REPO


def load_tool(name):
    path = osp.join(REPO, 'tools', 'model_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'converter_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def convert():
    return load_tool('convert')


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_dino):
    """A tiny DINO + ConvNeXt-head checkpoint whose teacher differs from its student."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('hssl'):  # module scope: before the autouse fixture
        model = MODELS.build(tiny_dino(auxiliary=dict(type='ConvNeXtHead', depth=1)))
    model.init_weights()
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = str(tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1, 'iter': 4},
                'optimizer': {'state': {0: {'exp_avg': torch.ones(3)}}, 'param_groups': []}}, path)
    return model.eval(), path


def tiny_timm():
    return timm.models.vision_transformer.VisionTransformer(
        img_size=32, patch_size=4, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0,
        num_classes=0)


@pytest.mark.parametrize('student', [False, True])
def test_timm_gives_the_same_features(convert, trained, tmp_path, student):
    model, path = trained
    out = str(tmp_path / 'timm.pth')
    convert.main([path, out, '--to', 'timm'] + (['--student'] if student else []))
    vit = tiny_timm()
    vit.load_state_dict(torch.load(out), strict=True)
    # the constructor that convert.py prints for a size without a timm preset builds it too
    hint = convert.timm_hint(backbone_state_dict(safe_load(path), student=student), 2, out)
    assert hint.startswith('timm.models.vision_transformer.VisionTransformer(img_size=32, '
                           'patch_size=4, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2,')
    printed = eval(hint.split('.load_state_dict')[0], {'timm': timm})
    printed.load_state_dict(torch.load(out), strict=True)
    x = torch.randn(2, 3, 32, 32)
    network = model.student if student else model.teacher.module
    with torch.no_grad():
        expected = network.backbone(x).cls
        other = (model.teacher.module if student else model.student).backbone(x).cls
        got = vit.eval()(x)
        torch.testing.assert_close(printed.eval()(x), got)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got, other, atol=1e-3)  # the branch asked for, not the other


def test_timm_preset_vit_small_loads_strictly(convert, tmp_path):
    torch.manual_seed(0)
    hssl_vit = MODELS.build(dict(type='ViT', arch='small', img_size=224, patch_size=16,
                                 use_mask_token=True))
    hssl_vit.init_weights()
    hssl_vit.eval()
    path = str(tmp_path / 'small.pth')
    torch.save({'state_dict': {f'teacher.module.backbone.{k}': v
                               for k, v in hssl_vit.state_dict().items()}}, path)
    out = str(tmp_path / 'small_timm.safetensors')
    convert.main([path, out, '--to', 'timm'])
    assert timm_model_name(backbone_state_dict(safe_load(path))) == 'vit_small_patch16_224'
    vit = timm.create_model('vit_small_patch16_224', pretrained=True, num_classes=0,
                            pretrained_cfg_overlay=dict(file=out)).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(vit(x), hssl_vit(x).cls, rtol=1e-4, atol=1e-4)
    from safetensors.torch import load_file
    vit.load_state_dict(load_file(out), strict=True)
    as_pth = str(tmp_path / 'small_timm.pth')  # the .pth form, through timm's file loader
    convert.main([path, as_pth, '--to', 'timm'])
    vit_pth = timm.create_model('vit_small_patch16_224', pretrained=True, num_classes=0,
                                pretrained_cfg_overlay=dict(file=as_pth)).eval()
    with torch.no_grad():
        torch.testing.assert_close(vit_pth(x), hssl_vit(x).cls, rtol=1e-4, atol=1e-4)


def test_mmpretrain_pretrained_init_gives_the_same_features(convert, trained, tmp_path):
    model, path = trained
    out = str(tmp_path / 'mmpretrain.pth')
    convert.main([path, out, '--to', 'mmpretrain'])
    saved = safe_load(out)
    assert set(saved) == {'state_dict', 'meta'} and saved['meta']['branch'] == 'teacher'
    assert 'mask_token' not in saved['state_dict']
    assert not any(k.startswith(('aux', 'teacher', 'student', 'head')) for k in saved['state_dict'])

    def build(init_cfg):
        torch.manual_seed(1)
        vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                          feedforward_channels=64),
                                img_size=32, patch_size=4, out_type='cls_token', final_norm=True,
                                init_cfg=init_cfg)
        vit.init_weights()
        vit.eval()  # mmpretrain's train() returns None
        return vit

    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model.teacher.module.backbone(x).cls
        got = build(dict(type='Pretrained', checkpoint=out))(x)[-1]
        fresh = build(None)(x)[-1]
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # the config that convert.py prints builds and loads the same backbone
    hint = convert.mmpretrain_hint(backbone_state_dict(safe_load(path)), 2, out)
    printed = MODELS.build(eval(hint.split('backbone=', 1)[1]))
    printed.init_weights()
    printed.eval()
    with torch.no_grad():
        torch.testing.assert_close(printed(x)[-1], expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(fresh, expected, atol=1e-3)


def test_unknown_layouts_are_refused_with_the_expected_keys(convert, trained, tmp_path):
    model, path = trained
    state = model.state_dict()
    cases = {
        'foreign': ({'model.encoder.weight': torch.zeros(1)},
                    ['no teacher backbone weights', 'teacher.module.backbone.cls_token',
                     'teacher.module.backbone.patch_embed.projection.weight', 'model.encoder']),
        'no_teacher': ({k: v for k, v in state.items() if not k.startswith('teacher')},
                       ['no teacher backbone weights', 'convert that with --student']),
        'extra_key': (dict(state, **{'teacher.module.backbone.layers.0.adapter.weight':
                                     torch.zeros(1)}),
                      ['not a ViT of the known layout', "unknown ['layers.0.adapter.weight']"]),
        'missing_key': ({k: v for k, v in state.items() if not k.endswith('layers.1.ln2.bias')},
                        ["missing ['layers.1.ln2.bias']"]),
    }
    for name, (weights, words) in cases.items():
        bad = str(tmp_path / f'{name}.pth')
        torch.save({'state_dict': weights}, bad)
        with pytest.raises(SystemExit) as info:
            convert.main([bad, str(tmp_path / 'out.pth'), '--to', 'timm'])
        message = str(info.value)
        assert message.startswith('convert.py: error: ') and bad in message
        for word in words:
            assert word in message, (name, word, message)


def test_publish_strips_training_state_and_adds_the_hash(trained, tmp_path):
    _, path = trained
    final = load_tool('publish').publish(path, str(tmp_path / 'release' / 'dino_tiny.pth'))
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert final == str(tmp_path / 'release' / f'dino_tiny-{digest[:8]}.pth')
    published, original = safe_load(final), safe_load(path)
    assert set(published) == {'state_dict', 'meta'}
    assert published['state_dict'].keys() == original['state_dict'].keys()
    assert all(torch.equal(published['state_dict'][k], v) for k, v in original['state_dict'].items())
