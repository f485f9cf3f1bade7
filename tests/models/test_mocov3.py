"""MoCo v3 and MoCo v3 + HSSL (Eq. 11): InfoNCE, momentum keys, configs, 2 processes."""
import math
import os
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmpretrain.models.utils import build_2d_sincos_position_embedding

from hssl.models.losses import InfoNCELoss
from hssl.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
MLP = dict(type='MoCoV3MLP', hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
CONFIGS = ['mocov3/mocov3_vits16_100e_in1k.py', 'hssl/mocov3_vits16_convnext_100e_in1k.py',
           'mocov3/mocov3_vitt4_100e_cifar10.py', 'hssl/mocov3_vitt4_convnext_100e_cifar10.py']


def tiny_mocov3(auxiliary=None):
    return dict(
        type='MoCoV3',
        network=dict(type='HeterogeneousNetwork',
                     backbone=dict(type='MoCoV3ViT', arch=ARCH, img_size=32, patch_size=8),
                     projector=dict(MLP, num_layers=3, with_last_bn_affine=False),
                     auxiliary=auxiliary),
        predictor=dict(MLP, num_layers=2, with_last_bn=False),
        loss=dict(type='InfoNCELoss', temperature=0.2))


def views(seed=0, batch=4):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, 32, 32, generator=g) for _ in range(2)]


def test_infonce_matches_a_hand_computed_value():
    q = torch.tensor([[2.0, 0.0], [0.0, 3.0]])  # normalised: e1, e2
    k = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # normalised: e1, (e1 + e2) / sqrt 2
    # T = 0.5: logits row 0 = [1, 1/sqrt2] / 0.5, label 0; row 1 = [0, 1/sqrt2] / 0.5, label 1
    r = 1 / math.sqrt(2) / 0.5
    ce0 = -2.0 + math.log(math.exp(2.0) + math.exp(r))
    ce1 = -r + math.log(1.0 + math.exp(r))
    expected = (ce0 + ce1) / 2 * (2 * 0.5)
    assert InfoNCELoss(temperature=0.5)(q, k).item() == pytest.approx(expected, rel=1e-6)
    assert InfoNCELoss(temperature=0.5, scale_by_2t=False)(q, k).item() == pytest.approx(
        (ce0 + ce1) / 2, rel=1e-6)


def test_infonce_keys_get_no_gradient_and_shapes_are_checked():
    q = torch.randn(3, 8, requires_grad=True)
    k = torch.randn(3, 8, requires_grad=True)
    InfoNCELoss()(q, k).backward()
    assert q.grad.abs().sum() > 0 and k.grad is None
    with pytest.raises(ValueError, match=r'query \(3, 8\) and key \(2, 8\)'):
        InfoNCELoss()(q, k[:2])


def test_mocov3_vit_freezes_patch_embedding_and_fixes_sincos_positions():
    model = MODELS.build(tiny_mocov3())
    model.init_weights()
    vit = model.student.backbone
    assert type(vit).__name__ == 'MoCoV3ViT' and MODELS.get('MoCoV3ViT') is type(vit)
    expected = build_2d_sincos_position_embedding(4, 32, cls_token=True)
    assert torch.allclose(vit.pos_embed, expected) and not vit.pos_embed.requires_grad
    conv = vit.patch_embed.projection
    bound = math.sqrt(6.0 / (3 * 8 * 8 + 32))  # MoCo v3: Xavier over the flattened patch
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound
    before = conv.weight.clone()
    sum(model.loss(views(), None).values()).backward()
    assert conv.weight.grad is None and vit.pos_embed.grad is None
    assert vit.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert torch.equal(conv.weight, before)


def test_baseline_is_the_symmetric_moco_v3_loss():
    model = MODELS.build(tiny_mocov3())
    x1, x2 = views()
    losses = model.loss([x1, x2], None)
    assert set(losses) == {'loss_base'}
    with torch.no_grad():
        k1, k2 = (model.teacher([x])['base'].cls for x in (x1, x2))
    pred = model.predictors['base']
    q1, q2 = (pred(model.student([x])['base'].cls) for x in (x1, x2))
    crit = model.criterion
    assert torch.allclose(losses['loss_base'], crit(q1, k2) + crit(q2, k1))


def test_hssl_loss_is_the_two_query_terms_against_the_momentum_aux_keys():
    model = MODELS.build(tiny_mocov3(auxiliary=dict(type='ConvNeXtHead', depth=2)))
    assert model.student.pairs == [('aux', ('base', 'aux'), 1.0)]
    assert set(model.predictors) == {'base', 'aux'}
    assert model.predictors['base'] is not model.predictors['aux']
    x1, x2 = views(1)
    losses = model.loss([x1, x2], None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    with torch.no_grad():
        keys = [model.teacher([x]) for x in (x1, x2)]
    crit = model.criterion
    for branch in ('base', 'aux'):  # Eq. 11: queries z^b and z^h, key z^h of the momentum encoder
        q1, q2 = (model.predictors[branch](model.student([x])[branch].cls) for x in (x1, x2))
        # averaged over the two queries of one key (the HSSL code's convention)
        expected = 0.5 * (crit(q1, keys[1]['aux'].cls) + crit(q2, keys[0]['aux'].cls))
        assert torch.allclose(losses[f'loss_{branch}'], expected)
        wrong = 0.5 * (crit(q1, keys[1]['base'].cls) + crit(q2, keys[0]['base'].cls))
        assert not torch.allclose(losses[f'loss_{branch}'], wrong)
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student.aux_heads['aux'].blocks[0].mlp.fc1.weight.grad.abs().sum() > 0
    assert model.student.backbone.layers[-1].ffn.layers[1].weight.grad.abs().sum() > 0


def test_mocov3_needs_two_views():
    model = MODELS.build(tiny_mocov3())
    with pytest.raises(ValueError, match='exactly 2 views'):
        model.loss(views() + views(), None)


def test_hssl_recipes_differ_from_their_baselines_only_by_the_head(load,
                                                                   assert_differs_only_by_head):
    for base, hssl in (('mocov3/mocov3_vits16_100e_in1k.py', 'hssl/mocov3_vits16_convnext_100e_in1k.py'),
                       ('mocov3/mocov3_vitt4_100e_cifar10.py', 'hssl/mocov3_vitt4_convnext_100e_cifar10.py')):
        assert_differs_only_by_head(base, hssl)
    cfg = load('hssl/mocov3_vits16_convnext_100e_in1k.py')
    assert cfg.custom_hooks == [dict(type='EMATeacherHook', momentum=0.99, end_momentum=1.0)]
    assert cfg.train_cfg.max_epochs == 100 and cfg.model.loss.temperature == 0.2
    assert cfg.model.network.backbone.arch.num_heads == 12  # MoCo v3's ViT-S


@pytest.mark.parametrize('name', CONFIGS)
def test_every_mocov3_config_trains_an_iteration_at_reduced_size(name, load):
    cfg = load(name)
    net = cfg.model.network
    net.backbone.arch = ARCH
    net.backbone.update(img_size=32, patch_size=8)
    net.projector.update(hid_channels=32, out_channels=16)
    cfg.model.predictor.update(hid_channels=32, out_channels=16)
    model = MODELS.build(cfg.model)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = model.loss(views(), None)
    sum(losses.values()).backward()
    optim.step()
    model.teacher.momentum = 1 - 0.99  # mmengine: the weight of the new value
    before = model.teacher.module.backbone.layers[0].attn.qkv.weight.clone()
    student = model.student.backbone.layers[0].attn.qkv.weight
    model.teacher.update_parameters(model.student)
    after = model.teacher.module.backbone.layers[0].attn.qkv.weight
    assert torch.allclose(after, 0.99 * before + 0.01 * student.detach(), atol=1e-7)
    assert all(torch.isfinite(v) for v in losses.values())


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_keys(rank, n=3, c=8):
    g = torch.Generator().manual_seed(100 + rank)
    return torch.randn(n, c, generator=g), torch.randn(n, c, generator=g)


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.set_num_threads(1)
    try:
        from mmengine.registry import DefaultScope

        from hssl.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        crit = InfoNCELoss(temperature=0.2)
        q, k = _rank_keys(rank)
        logits, labels = crit.logits(q, k)
        # by hand: the keys of both ranks, this rank's block holds the positives
        keys = torch.cat([torch.nn.functional.normalize(_rank_keys(r)[1], dim=1) for r in (0, 1)])
        expected = torch.nn.functional.cross_entropy(
            torch.nn.functional.normalize(q, dim=1) @ keys.t() / 0.2,
            torch.arange(3) + 3 * rank) * 0.4
        loss = crit(q, k).item()
        seen = []
        original = InfoNCELoss.logits

        def spy(self, query, key):
            out = original(self, query, key)
            seen.append(tuple(out[0].shape))
            return out

        InfoNCELoss.logits = spy
        with DefaultScope.overwrite_default_scope('hssl'):
            torch.manual_seed(0)
            model = MODELS.build(tiny_mocov3(auxiliary=dict(type='ConvNeXtHead', depth=1)))
            model.loss(views(seed=rank, batch=4), None)
        torch.save(dict(logits=tuple(logits.shape), labels=labels.tolist(),
                        loss=loss, expected=expected.item(), model_logits=seen),
                   osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_gather_keys_from_both_ranks(tmp_path):
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=2,
                       start_method='spawn', join=True)
    for rank in (0, 1):
        r = torch.load(tmp_path / f'rank{rank}.pt')
        assert r['logits'] == (3, 6)  # 3 queries x (3 + 3) keys: 1 positive, 5 negatives
        assert r['labels'] == [3 * rank, 3 * rank + 1, 3 * rank + 2]
        assert r['loss'] == pytest.approx(r['expected'], rel=1e-6)
        # MoCo v3 + HSSL with a batch of 4 per process: 2 branches x 2 views, 8 keys each
        assert r['model_logits'] == [(4, 8)] * 4
