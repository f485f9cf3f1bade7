"""Deep-to-shallow supervision (SDSSL / the DTS of Tab. XIX): a component of the network."""
import math

import pytest
import torch

from hssl.models.networks.deep_to_shallow import cosine_ramp
from hssl.registry import MODELS

CONVNEXT = dict(type='ConvNeXtHead', depth=1)
ARCH3 = dict(embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64)


def views(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(batch, 3, 32, 32, generator=g) for _ in range(2)]
            + [torch.randn(batch, 3, 16, 16, generator=g) for _ in range(2)])


@pytest.fixture
def dts_dino(tiny_dino, tiny_vit):
    """``dts_dino(intermediate=None, auxiliary=None)``: ``tiny_dino`` on a 3-block ViT."""
    def make(intermediate=None, auxiliary=None):
        cfg = tiny_dino(auxiliary=auxiliary, intermediate=intermediate)
        cfg['network']['backbone'] = tiny_vit(arch=ARCH3)
        return cfg
    return make


def test_vit_out_indices_give_normed_intermediate_cls_in_one_pass(tiny_vit):
    torch.manual_seed(0)
    vit = MODELS.build(tiny_vit(arch=ARCH3, out_indices=[1, 0, -1])).eval()
    assert vit.intermediate_indices == [0, 1]
    x = torch.randn(2, 3, 32, 32)
    out = vit(x)
    # by hand: the cls token after blocks 0 and 1, through the shared final norm
    tokens, _ = vit.patch_embed(x)
    tokens = torch.cat([vit.cls_token.expand(2, -1, -1), tokens], dim=1) + vit.pos_embed
    after0 = vit.layers[0](tokens)
    after1 = vit.layers[1](after0)
    assert out.inter_cls.shape == (2, 2, 32)
    assert torch.allclose(out.inter_cls[0], vit.ln1(after0[:, 0]), atol=1e-5)
    assert torch.allclose(out.inter_cls[1], vit.ln1(after1[:, 0]), atol=1e-5)
    assert torch.allclose(out.cls, vit.ln1(vit.layers[2](after1)[:, 0]), atol=1e-5)
    # default: only the last block, as before
    assert MODELS.build(tiny_vit(arch=ARCH3)).eval()(x).inter_cls is None
    with pytest.raises(ValueError, match='out_indices entry 3 is not a block index'):
        MODELS.build(tiny_vit(arch=ARCH3, out_indices=[3]))


def test_off_is_the_plain_network(build, dts_dino):
    model = build(dts_dino())
    assert model.student.pairs == model.student.hssl_pairs == [('base', ('base',), 1.0)]
    assert model.student.backbone.out_indices == [2]
    assert list(model.student.projectors) == ['base'] and model.student.deep_to_shallow is None


def test_branches_pairs_and_weights(build, dts_dino):
    model = build(dts_dino(dict(weight=0.8)))
    net = model.student
    assert net.deep_to_shallow.branches == ['layer_0', 'layer_1']
    assert net.backbone.intermediate_indices == [0, 1]
    assert set(net.projectors) == {'base'}
    assert set(net.deep_to_shallow.projectors) == {'layer_0', 'layer_1'}
    assert net.pairs == [('base', ('base',), 1.0), ('base', ('layer_0',), 0.4),
                         ('base', ('layer_1',), 0.4)]
    # the cosine ramp at half of training: r * 0.5 / n each
    assert net.loss_terms(progress=(5, 10))[1:] == [('base', 'layer_0', pytest.approx(0.2)),
                                                    ('base', 'layer_1', pytest.approx(0.2))]
    assert net.hssl_pairs == [('base', ('base',), 1.0)]
    # with HSSL the shallow layers learn what the last layer learns: the auxiliary target
    hssl = build(dts_dino(dict(layers=[1], weight=1.0), auxiliary=CONVNEXT)).student
    assert hssl.pairs == [('aux', ('base', 'aux'), 1.0), ('aux', ('layer_1',), 1.0)]
    assert hssl.hssl_pairs == [('aux', ('base', 'aux'), 1.0)]


def test_dino_dts_loss_against_hand_computed_terms(progress, build, dts_dino):
    model = build(dts_dino(dict(layers=[0], weight=0.5)))
    progress(3, 10)
    ramp = cosine_ramp(3, 10)
    v = views()
    net, teacher = model.student, model.teacher.module
    calls = []  # the teacher skips intermediate branches
    teacher.deep_to_shallow.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        t = teacher.projectors['base'](teacher.backbone(torch.cat(v[:2])).cls)
        inter = torch.cat([net.backbone(torch.cat(v[:2])).inter_cls[0],
                           net.backbone(torch.cat(v[2:])).inter_cls[0]])
        s = net.deep_to_shallow.projectors['layer_0'](inter)
        crit = model.criteria['base']
        expected = 0.5 * ramp * crit(crit.teacher_probs(t), s, 2, 4)
        losses = model.loss(v, None)
    assert not calls
    assert set(losses) == {'loss_base', 'loss_layer_0'}
    assert torch.allclose(losses['loss_layer_0'], expected, atol=1e-6)
    # the shared target's centre moved once, not once per pair
    assert torch.allclose(crit.center, 0.1 * t.mean(0, keepdim=True), atol=1e-6)


def test_ramp_zero_equals_the_baseline_loss_and_gradients(progress, build, dts_dino):
    base = build(dts_dino())
    dts = build(dts_dino(dict(weight=1.0)))
    missing, unexpected = dts.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and all('layer_' in k for k in missing)
    progress(0, 10)
    v = views()
    for model in (base, dts):
        sum(model.loss(v, None).values()).backward()
    for (name, p), q in zip(base.student.named_parameters(), dts.student.parameters()):
        if p.grad is not None:
            assert torch.allclose(p.grad, q.grad, atol=1e-6), name


def test_intermediate_blocks_get_gradients_from_the_new_terms_only_when_enabled(build, dts_dino):
    def grads(model, key):
        model.zero_grad()
        model.loss(views(), None)[key].backward()
        blocks = model.student.backbone.layers
        return [any(p.grad is not None and p.grad.abs().sum() > 0 for p in b.parameters())
                for b in blocks]

    dts = build(dts_dino(dict(layers=[0], weight=1.0, ramp=None)))
    # the layer_0 term reaches block 0 only (and its own projector, not the final one)
    assert grads(dts, 'loss_layer_0') == [True, False, False]
    assert dts.student.deep_to_shallow.projectors['layer_0'].mlp[0].weight.grad.abs().sum() > 0
    assert dts.student.projectors['base'].mlp[0].weight.grad is None
    assert all(p.grad is None for p in dts.teacher.parameters())
    off = build(dts_dino())
    assert set(off.loss(views(), None)) == {'loss_base'}
    assert grads(off, 'loss_base') == [True, True, True]


def test_the_weight_ramps_by_cosine_with_the_training_progress(progress, build, dts_dino):
    assert cosine_ramp(0, 10) == 0.0
    assert cosine_ramp(5, 10) == pytest.approx(0.5)
    assert cosine_ramp(10, 10) == pytest.approx(1.0)
    assert cosine_ramp(2, 10) == pytest.approx((1 - math.cos(math.pi * 0.2)) / 2)
    model = build(dts_dino(dict(weight=0.8)))
    progress(2, 10)
    ramp = (1 - math.cos(math.pi * 0.2)) / 2
    assert model.loss_terms()[1].weight == pytest.approx(0.8 * ramp / 2)
    losses = model(views(), None, mode='loss')  # the weight in force is logged
    assert float(losses['dts_weight']) == pytest.approx(0.8 * ramp)
    # a constant weight needs no progress; a ramp without one is named
    constant = build(dts_dino(dict(weight=0.8, ramp=None))).student
    assert constant.loss_terms()[1].weight == pytest.approx(0.4)
    with pytest.raises(RuntimeError, match='needs the training progress'):
        model.student.loss_terms()
    with pytest.raises(ValueError, match="ramp must be one of"):
        MODELS.build(dts_dino(dict(ramp='linear')))


def test_ibot_dts_is_cls_level_only(build, tiny_vit):
    cfg = dict(
        type='IBOT', num_global_views=2,
        network=dict(type='HeterogeneousNetwork',
                     backbone=tiny_vit(arch=ARCH3, use_mask_token=True),
                     projector=dict(type='DINOProjectionHead', out_channels=16,
                                    hidden_channels=32, bottleneck_channels=16),
                     auxiliary=CONVNEXT, intermediate=dict(layers=[0], ramp=None)),
        loss=dict(type='DINOLoss', out_channels=16),
        patch_loss=dict(type='MaskedPatchLoss', out_channels=16),
        patch_level_hssl=True)
    model = build(cfg)
    assert model.patch_pairs == [('aux', ('base', 'aux'), 1.0)]
    v = views()
    masks = [torch.rand(2, 8, 8) < 0.3 for _ in range(2)]
    losses = model.loss(v, None, masks=masks)
    assert set(losses) == {'loss_cls_base', 'loss_cls_aux', 'loss_cls_layer_0',
                           'loss_patch_base', 'loss_patch_aux'}
    assert losses['loss_cls_layer_0'] > 0


@pytest.mark.parametrize('intermediate, match', [
    (dict(layers=[2]), 'layers: 2 is not an intermediate block of a 3-block'),
    (dict(layers=[0, 0]), 'distinct'),
    (dict(weigth=1.0), r"no option\(s\) \['weigth'\]"),
])
def test_bad_options_are_named(intermediate, match, dts_dino):
    with pytest.raises((ValueError, KeyError), match=match):
        MODELS.build(dts_dino(intermediate))


def test_side_by_side_heads_are_refused(dts_dino):
    heads = [dict(CONVNEXT, name='a'), dict(CONVNEXT, name='b')]
    with pytest.raises(ValueError, match='side by side'):
        MODELS.build(dts_dino(dict(layers=[0]), auxiliary=heads))


# ------------------------------------------------------------------ configs

DTS_CONFIGS = ['dts/dino-dts_vits16_100e_in1k.py', 'dts/dino-dts_vits16_convnext_100e_in1k.py',
               'dts/mocov3-dts_vits16_100e_in1k.py', 'dts/mocov3-dts_vits16_convnext_100e_in1k.py',
               'dts/ibot-dts_vitt4_100e_cifar10.py']


def test_dts_configs_are_their_baselines_plus_the_option(assert_differs_only_by_head, load):
    dts_option = dict(layers=None, weight=1.0, ramp='cosine')
    for dts, base in (('dts/dino-dts_vits16_100e_in1k.py', 'dino/dino_vits16_100e_in1k.py'),
                      ('dts/mocov3-dts_vits16_100e_in1k.py', 'mocov3/mocov3_vits16_100e_in1k.py')):
        d, b = load(dts), load(base)
        assert d.model.network.pop('intermediate') == dts_option
        assert d.model == b.model and d.train_dataloader == b.train_dataloader
        assert d.custom_hooks == b.custom_hooks
    d, b = load('dts/ibot-dts_vitt4_100e_cifar10.py'), load('ibot/ibot_vitt4_100e_cifar10.py')
    assert d.model.network.pop('intermediate') == dts_option
    assert d.model == b.model and d.custom_hooks == b.custom_hooks
    assert_differs_only_by_head('dts/dino-dts_vits16_100e_in1k.py', 'dts/dino-dts_vits16_convnext_100e_in1k.py')
    assert_differs_only_by_head('dts/mocov3-dts_vits16_100e_in1k.py', 'dts/mocov3-dts_vits16_convnext_100e_in1k.py')


@pytest.mark.parametrize('name', DTS_CONFIGS)
def test_every_dts_config_trains_an_iteration_at_reduced_size(name, progress, load, build):
    cfg = load(name)
    net = cfg.model.network
    net.backbone.update(arch=ARCH3, img_size=32, patch_size=8)
    if cfg.model.type in ('DINO', 'IBOT'):
        net.projector.update(out_channels=16, hidden_channels=32, bottleneck_channels=16)
        cfg.model.loss.out_channels = 16
        if cfg.model.type == 'IBOT':
            cfg.model.patch_loss.out_channels = 16
    else:
        net.projector.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
        cfg.model.predictor.update(hid_channels=32, out_channels=16, norm_cfg=dict(type='BN1d'))
    model = build(cfg.model)
    assert model.student.deep_to_shallow.branches == ['layer_0', 'layer_1']
    progress(3, 4)
    if cfg.model.type == 'IBOT':
        masks = [torch.rand(2, 4, 4) < 0.3 for _ in range(2)]
        losses = model.loss(views(), None, masks=masks)
        assert {'loss_cls_layer_0', 'loss_cls_layer_1'} <= set(losses)
    else:
        losses = model.loss(views()[:2] if cfg.model.type == 'MoCoV3' else views(), None)
        assert {'loss_layer_0', 'loss_layer_1'} <= set(losses)
    assert all(torch.isfinite(x) for x in losses.values())
    sum(losses.values()).backward()
    assert model.student.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0


def test_runner_trains_with_the_ramp_and_resumes_it(tmp_path, data_root):
    """End to end on the tiny digits config: the weight ramps with the runner's
    iteration, checkpoints hold the intermediate projectors, a resumed run
    continues the ramp from its iteration."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.hooks import Hook

    from hssl.apis import build_runner
    from hssl.reliability.checkpoint_files import safe_load
    from tests import DATA

    def runner(**options):
        cfg = Config.fromfile(osp.join(DATA, 'tiny_digits_config.py'))
        cfg.work_dir = str(tmp_path)
        cfg.model.network.intermediate = dict(layers=None, weight=0.5, ramp='cosine')
        cfg.merge_from_dict(options)
        cfg.experiment_name = f'test_dts_{id(cfg)}'
        return build_runner(cfg)

    seen = []

    class Record(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            seen.append((runner.iter, float(outputs['dts_weight']) / 0.5,
                         float(outputs['loss_layer_0'].detach())))

    first = runner(**{'train_cfg.max_epochs': 1})
    first.register_hook(Record(), priority='LOWEST')
    first.train()
    state = safe_load(osp.join(tmp_path, 'epoch_1.pth'))['state_dict']
    for network in ('student', 'teacher.module'):
        assert any(k.startswith(f'{network}.deep_to_shallow.projectors.layer_0.') for k in state)
    assert not any('ramp' in k for k in state)
    resumed = runner(resume=True)  # max_epochs 2 of the config: iterations 4..7 of 8
    resumed.register_hook(Record(), priority='LOWEST')
    resumed.train()
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [s[1] for s in seen[:4]] == pytest.approx([cosine_ramp(i, 4) for i in range(4)])
    assert [s[1] for s in seen[4:]] == pytest.approx([cosine_ramp(i, 8) for i in range(4, 8)])
    assert seen[0][2] == 0.0 and seen[5][2] > 0  # ramp 0 at the start: the term is 0


def test_a_backbone_without_intermediate_tokens_is_named(build, dts_dino):
    net = build(dts_dino(dict(layers=[0]))).student
    plain = net.backbone.forward

    def forward(x, mask=None):
        return plain(x, mask)._replace(inter_cls=None)  # as a backbone without out_indices

    net.backbone.forward = forward
    with pytest.raises(RuntimeError, match='ViT returned no intermediate cls tokens'):
        net(views()[:2])


def test_checkpoints_of_the_previous_layout_load(build, dts_dino):
    """Before the component, the intermediate projectors were network projectors."""
    model = build(dts_dino(dict(layers=[0])))
    state = model.state_dict()
    old = {k.replace('deep_to_shallow.projectors.', 'projectors.'): v for k, v in state.items()}
    assert any(k.startswith('student.projectors.layer_0.') for k in old)
    fresh = build(dts_dino(dict(layers=[0])), seed=1)
    fresh.load_state_dict(old)  # strict
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, state[k]), k
