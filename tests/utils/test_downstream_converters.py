"""convert.py --to mmseg / mmdet: the key layouts of mmsegmentation's ViT and of
mmdetection's ViT (ViTDet), checked block by block against the hssl backbone.

mmsegmentation and mmdetection need mmcv's compiled ops to import, so their
ViT classes are not built here; their blocks are: mmseg's encoder layer is
mmcv's ``MultiheadAttention`` + ``FFN`` between two LayerNorms (mmcv-lite has
both), ViTDet's block has timm's names and arithmetic (no window attention
here, ``window_size=0``).
"""
import importlib.util
import os.path as osp

import pytest
import timm
import torch
from mmengine.registry import DefaultScope
from torch import nn

from hssl.registry import MODELS
from tests import REPO

LAYERS = 2


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'convert_ds', osp.join(REPO, 'tools', 'model_converters', 'convert.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_dino):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('hssl'):
        model = MODELS.build(tiny_dino(auxiliary=dict(type='ConvNeXtHead', depth=1)))
    model.init_weights()
    with torch.no_grad():
        for p in model.teacher.module.backbone.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = str(tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, path)
    return model.teacher.module.backbone.eval(), path


def tokens(seed=0):
    return torch.randn(2, 17, 32, generator=torch.Generator().manual_seed(seed))


def mmseg_keys(layers):
    """mmseg VisionTransformer(final_norm=True, with_cls_token=True) parameter names."""
    per = ['ln1.weight', 'ln1.bias', 'attn.attn.in_proj_weight', 'attn.attn.in_proj_bias',
           'attn.attn.out_proj.weight', 'attn.attn.out_proj.bias', 'ln2.weight', 'ln2.bias',
           'ffn.layers.0.0.weight', 'ffn.layers.0.0.bias', 'ffn.layers.1.weight', 'ffn.layers.1.bias']
    return ({'cls_token', 'pos_embed', 'patch_embed.projection.weight', 'patch_embed.projection.bias',
             'ln1.weight', 'ln1.bias'} | {f'layers.{i}.{k}' for i in range(layers) for k in per})


def vitdet_keys(layers):
    """mmdet ViTDet ViT(use_rel_pos=False, pretrain_use_cls_token=True) parameter names."""
    per = ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight',
           'attn.proj.bias', 'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
           'mlp.fc2.weight', 'mlp.fc2.bias']
    return ({'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias'}
            | {f'blocks.{i}.{k}' for i in range(layers) for k in per})


class MMSegLayer(nn.Module):
    """mmseg's TransformerEncoderLayer from the same mmcv bricks (its forward:
    x = attn(ln1(x), identity=x); x = ffn(ln2(x), identity=x))."""

    def __init__(self, dims, heads, hidden):
        super().__init__()
        from mmcv.cnn.bricks.transformer import FFN, MultiheadAttention
        self.ln1, self.ln2 = nn.LayerNorm(dims, eps=1e-6), nn.LayerNorm(dims, eps=1e-6)
        self.attn = MultiheadAttention(dims, heads, batch_first=True)
        self.ffn = FFN(dims, hidden, act_cfg=dict(type='GELU'))  # mmseg's act_cfg

    def forward(self, x):
        x = self.attn(self.ln1(x), identity=x)
        return self.ffn(self.ln2(x), identity=x)


def same_blocks(state, name, make_block, backbone):
    """Each converted block ``<name>.<i>.*`` loads strictly into ``make_block()`` and
    computes what the hssl ViT's block i computes."""
    for i in range(LAYERS):
        block = make_block().eval()
        prefix = f'{name}.{i}.'
        block.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)},
                              strict=True)
        x = tokens(i)
        with torch.no_grad():
            assert torch.allclose(block(x), backbone.layers[i](x), atol=1e-5)


def test_mmseg_layout_and_blocks(trained, tmp_path, capsys):
    backbone, path = trained
    out = str(tmp_path / 'mmseg.pth')
    load_tool().main([path, out, '--to', 'mmseg'])
    assert "type='VisionTransformer'" in capsys.readouterr().out
    ckpt = torch.load(out)
    state = ckpt['state_dict']
    assert set(state) == mmseg_keys(LAYERS) and ckpt['meta']['branch'] == 'teacher'
    assert state['pos_embed'].shape == (1, 1 + 8 * 8, 32)  # cls + the 32 px / patch 4 grid
    assert torch.equal(state['patch_embed.projection.weight'],
                       backbone.patch_embed.projection.weight)
    same_blocks(state, 'layers', lambda: MMSegLayer(32, 2, 64), backbone)


def test_mmdet_vitdet_layout_and_blocks(trained, tmp_path, capsys):
    backbone, path = trained
    out = str(tmp_path / 'mmdet.pth')
    load_tool().main([path, out, '--to', 'mmdet'])
    assert 'pretrain_img_size=32, pretrain_use_cls_token=True' in capsys.readouterr().out
    ckpt = torch.load(out)
    state = ckpt['model']  # ViTDet's init_weights reads checkpoint['model']
    assert set(state) == vitdet_keys(LAYERS)
    assert state['pos_embed'].shape == (1, 1 + 8 * 8, 32)
    same_blocks(state, 'blocks',
                lambda: timm.models.vision_transformer.Block(32, 2, mlp_ratio=2.0, qkv_bias=True),
                backbone)


def test_layer_scale_is_refused_for_mmseg():
    from hssl.utils.model_converters import to_mmseg
    with pytest.raises(ValueError, match='has no layer scale'):
        to_mmseg({'layers.0.attn.gamma1.weight': torch.ones(2)})
