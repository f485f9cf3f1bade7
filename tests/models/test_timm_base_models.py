"""Any timm model as the base model (TimmBackbone), the width adapter, and the
ResNet-50 recipe with the six heads (Tab. I, right half)."""
import glob
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config

from hssl.models.backbones import TimmBackbone
from hssl.models.networks.depth import continue_drop_path
from hssl.registry import MODELS
from tests import REPO

# tiny versions of the models the wrapper must accept (timm's own arguments)
TINY = {
    'resnet50': dict(layers=(1, 1, 1, 1), channels=(8, 16, 24, 32), stem_width=8),
    'convnext_tiny': dict(depths=(1, 1, 1, 1), dims=(8, 16, 24, 32)),
    'swin_tiny_patch4_window7_224': dict(embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 1, 1),
                                         window_size=2, img_size=64, strict_img_size=False),
}


def tiny_backbone(name, **kw):
    return dict(type='TimmBackbone', model_name=name, **TINY[name], **kw)


def views(size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(2, 3, size, size, generator=g) for _ in range(2)]
            + [torch.randn(2, 3, size // 2, size // 2, generator=g) for _ in range(2)])


@pytest.mark.parametrize('name', TINY)
def test_outputs_are_the_pooled_features_and_the_pre_norm_final_map(name):
    torch.manual_seed(0)
    backbone = MODELS.build(tiny_backbone(name)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out = backbone(x)
        ref = timm.create_model(name, num_classes=0, **TINY[name]).eval()
        ref.load_state_dict(backbone.model.state_dict())
        features = ref.forward_features(x)
        pooled = ref(x)  # timm's classifier input (num_classes=0: the pre-logits)
    C = backbone.embed_dims
    # ResNet: 4 x the last stage's 32 (bottleneck expansion); Swin: 8 x 2^3
    assert C == ref.num_features == {'resnet50': 128, 'convnext_tiny': 32}.get(name, 64)
    h = w = 2
    assert out.grid.shape == (2, C, h, w) and out.patch.shape == (2, h * w, C)
    assert torch.allclose(out.cls, pooled, atol=1e-5)
    if name.startswith('swin'):  # features = norm(last stage), NHWC; the grid is before the norm
        assert torch.allclose(out.patch, features.flatten(1, 2), atol=1e-5)
        assert torch.allclose(ref.norm(out.grid.permute(0, 2, 3, 1)).flatten(1, 2), out.patch,
                              atol=1e-5)
    else:  # no norm between the last stage and the pooling: grid == final map
        assert torch.allclose(out.grid, features, atol=1e-6)
        assert torch.allclose(out.patch, features.flatten(2).transpose(1, 2), atol=1e-6)
    if name == 'resnet50':  # ResNet's cls is the plain global average
        assert torch.allclose(out.cls, out.grid.mean((2, 3)), atol=1e-5)


def test_init_weights_follows_the_seed():
    a, b = MODELS.build(tiny_backbone('resnet50')), MODELS.build(tiny_backbone('resnet50'))
    torch.manual_seed(3)
    a.init_weights()
    torch.manual_seed(3)
    b.init_weights()
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    torch.manual_seed(4)
    b.init_weights()
    assert not torch.equal(a.model.conv1.weight, b.model.conv1.weight)


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match='timm has no model "resnet5O"'):
        TimmBackbone('resnet5O')
    with pytest.raises(ValueError, match='"num_classes" is fixed by hssl'):
        TimmBackbone('resnet18', num_classes=10)
    with pytest.raises(RuntimeError, match='has no mask token'):
        MODELS.build(tiny_backbone('resnet50'))(torch.randn(1, 3, 32, 32),
                                                mask=torch.zeros(1, 1, 1, dtype=torch.bool))


@pytest.mark.parametrize('name', TINY)
def test_timm_base_model_trains_inside_dino_hssl(name, tiny_dino, build):
    cfg = tiny_dino(auxiliary=dict(type='WidthAdaptedHead', width=16,
                                   head=dict(type='ConvNeXtHead', depth=2)))
    cfg['network']['backbone'] = tiny_backbone(name)
    model = build(cfg)
    losses = model.loss(views(), None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    sum(losses.values()).backward()
    stem = next(model.student.backbone.model.parameters())
    assert stem.grad is not None and stem.grad.abs().sum() > 0
    assert model.student.projectors['base'].mlp[0].in_features == model.student.backbone.embed_dims
    assert model.student.projectors['aux'].mlp[0].in_features == 16
    model.teacher.update_parameters(model.student)


# --- the width adapter ---------------------------------------------------------------------
def test_width_adapter_is_a_1x1_conv_then_the_head():
    torch.manual_seed(0)
    adapted = MODELS.build(dict(type='WidthAdaptedHead', in_channels=2048, width=64,
                                head=dict(type='ConvNeXtHead', depth=2))).eval()
    adapted.init_weights()
    grid = torch.randn(2, 2048, 7, 7)
    out = adapted(grid)
    assert adapted.out_channels == 64 and out.cls.shape == (2, 64) and out.patch.shape == (2, 49, 64)
    reduced = torch.einsum('oc,bchw->bohw', adapted.reduce.weight[:, :, 0, 0], grid) \
        + adapted.reduce.bias[:, None, None]
    ref = adapted.head(reduced)
    assert torch.allclose(out.patch, ref.patch, atol=1e-5)
    # the head at 64 channels instead of 2048: ~1/1000 of the MLP weights
    mlp = sum(p.numel() for n, p in adapted.head.named_parameters() if '.mlp.' in n)
    assert mlp == 2 * 2 * (64 * 256) + 2 * (256 + 64)


def test_drop_path_is_continued_for_a_vit_base_only(tiny_vit):
    head = dict(type='ConvNeXtHead', depth=3)
    aux = {'aux': dict(head)}
    vit = continue_drop_path(tiny_vit(drop_path_rate=0.1), aux)  # 2 blocks + 3 head blocks
    assert aux['aux']['drop_path_rate'] == pytest.approx([0.05, 0.075, 0.1])
    assert vit['drop_path_rate'] == pytest.approx(0.1 * 1 / 4)
    adapted = {'aux': dict(type='WidthAdaptedHead', head=dict(head, depth=1))}
    continue_drop_path(tiny_vit(drop_path_rate=0.1), adapted)  # counts the inner head's depth
    assert adapted['aux']['drop_path_rate'] == pytest.approx([0.1])
    for backbone in (dict(type='TimmBackbone', model_name='resnet50', drop_path_rate=0.1),):
        aux = {'aux': dict(head)}
        assert continue_drop_path(backbone, aux) == backbone and aux['aux'] == head
    parallel = {'aux': dict(type='ParallelNetwork', model_name='convnext_tiny')}
    assert continue_drop_path(tiny_vit(drop_path_rate=0.1), parallel)['drop_path_rate'] == 0.1
    assert 'drop_path_rate' not in parallel['aux']


def test_deep_to_shallow_needs_a_vit_base(tiny_dino, build):
    cfg = tiny_dino(intermediate=dict(layers=[0]))
    cfg['network']['backbone'] = tiny_backbone('resnet50')
    with pytest.raises(ValueError, match="needs one of hssl's ViT base models"):
        build(cfg)


# --- the ResNet-50 recipe and its six heads (Tab. I, right half) -----------------------------
def test_resnet50_baseline_is_the_vit_baseline_with_dinos_resnet50_settings(load):
    vit, rn = load('dino/dino_vits16_100e_in1k.py'), load('dino/dino_resnet50_100e_in1k.py')
    assert rn.model.network.pop('backbone') == dict(type='TimmBackbone', model_name='resnet50')
    vit.model.network.pop('backbone')
    assert rn.model == vit.model
    assert rn.optim_wrapper.optimizer == dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4)
    assert rn.optim_wrapper.paramwise_cfg == vit.optim_wrapper.paramwise_cfg  # no decay on 1-D
    assert rn.optim_wrapper.clip_grad == vit.optim_wrapper.clip_grad
    assert [s.type for s in rn.param_scheduler] == ['WarmupCosineLR']
    assert rn.param_scheduler == vit.param_scheduler[:1]  # the weight-decay schedule is gone
    assert rn.auto_scale_lr == vit.auto_scale_lr and rn.train_dataloader.batch_size == 64
    crop = rn.train_dataloader.dataset.pipeline[1]
    assert crop.global_crops_scale == (0.14, 1.0) and crop.local_crops_scale == (0.05, 0.14)
    assert crop.local_crops_number == vit.train_dataloader.dataset.pipeline[1].local_crops_number
    assert rn.sync_bn == 'torch' and rn.custom_hooks == vit.custom_hooks


def test_resnet50_full_size_is_resnet50_with_a_2048_wide_projector(load):
    cfg = load('hssl/resnet50/dino_resnet50_convnext_100e_in1k.py')
    net = MODELS.build(cfg.model.network)
    assert 23.4e6 < sum(p.numel() for p in net.backbone.parameters()) < 23.6e6  # ResNet-50 w/o fc
    assert net.projectors['base'].mlp[0].in_features == 2048
    assert net.projectors['aux'].mlp[0].in_features == 512
    out = net.backbone(torch.randn(1, 3, 224, 224))
    assert out.grid.shape == (1, 2048, 7, 7)


RESNET50 = sorted(glob.glob(osp.join(REPO, 'configs', 'hssl', 'resnet50', '*.py')))


def test_the_resnet50_set_has_the_six_heads():
    assert {osp.basename(p)[:-3] for p in RESNET50} == {
        f'dino_resnet50_{h}_100e_in1k' for h in ('vit', 'swin', 'poolformer', 'resnet', 'resmlp', 'convnext')}


@pytest.mark.parametrize('path', RESNET50, ids=lambda p: osp.basename(p)[:-3])
def test_resnet50_config_differs_only_by_the_head_and_trains_at_reduced_size(path, load, build):
    cfg = Config.fromfile(path)
    base = load('dino/dino_resnet50_100e_in1k.py')
    aux = cfg.model.network.pop('auxiliary')
    assert cfg.model == base.model and cfg.optim_wrapper == base.optim_wrapper
    assert cfg.train_dataloader == base.train_dataloader and cfg.param_scheduler == base.param_scheduler
    assert aux.type == 'WidthAdaptedHead' and aux.width == 512
    assert aux.head.depth == 3 and aux.head.first_shortcut is False
    aux.width = 16
    if aux.head.type == 'ResMLPHead':
        aux.head.grid_size = 2  # the reduced globals' grid
    cfg.model.network.auxiliary = aux
    cfg.model.network.backbone = tiny_backbone('resnet50')
    cfg.model.network.projector.update(out_channels=64, hidden_channels=32, bottleneck_channels=16)
    cfg.model.loss.out_channels = 64
    model = build(cfg.model.to_dict())
    losses = model.loss(views(), None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    sum(losses.values()).backward()
    assert model.student.backbone.model.conv1.weight.grad.abs().sum() > 0
    assert type(model.student.aux_heads['aux'].head).__name__ == aux.head.type
