"""HSSL as one mechanism: Eq. 1 pairs, the baseline unchanged, Eq. 6-7."""
import pytest
import torch

from hssl.registry import MODELS

CONVNEXT = dict(type='ConvNeXtHead', depth=2)


def views(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(batch, 3, 32, 32, generator=g) for _ in range(2)]
            + [torch.randn(batch, 3, 16, 16, generator=g) for _ in range(3)])


def test_baseline_has_no_auxiliary_part(build, tiny_dino):
    model = build(tiny_dino())
    assert model.student.pairs == [('base', ('base',), 1.0)]
    keys = {k.split('.')[0] for k in model.student.state_dict()}
    assert keys == {'backbone', 'projectors'}
    assert list(model.student.projectors) == ['base']
    assert list(model.criteria) == ['base']


def test_baseline_loss_is_plain_dino(build, tiny_dino):
    model = build(tiny_dino())
    v = views()
    losses = model.loss(v, None)
    assert list(losses) == ['loss_base']
    # recompute DINO by hand from the networks' outputs
    crit = model.criteria['base']
    crit.center.zero_()
    t = model.teacher.module.backbone(torch.cat(v[:2])).cls
    t = model.teacher.module.projectors['base'](t)
    s = torch.cat([model.student.projectors['base'](model.student.backbone(torch.cat(v[:2])).cls),
                   model.student.projectors['base'](model.student.backbone(torch.cat(v[2:])).cls)])
    expected = crit(crit.teacher_probs(t), s, 2, 5)
    assert torch.allclose(losses['loss_base'], expected, atol=1e-6)


@pytest.mark.parametrize('reduction,scale', [('mean', 0.5), ('sum', 1.0)])
def test_hssl_loss_is_the_two_terms_of_eq1(reduction, scale, build, tiny_dino):
    """Eq. 1's two terms; averaged as the HSSL code's PretrainLoss (default) or summed."""
    model = build(tiny_dino(auxiliary=CONVNEXT, reduction=reduction))
    assert model.student.pairs == [('aux', ('base', 'aux'), 1.0)]
    assert model.student.loss_terms() == [('aux', 'base', scale), ('aux', 'aux', scale)]
    v = views()
    with torch.no_grad():
        t = model.teacher(v[:2])
        s = model.student(v)
    crit = model.criteria['aux']
    probs = crit.teacher_probs(t['aux'].cls)  # target: the teacher's AUXILIARY output z1^h
    term_base = crit(probs, s['base'].cls, 2, 5)  # L(z1^h, z2^b)
    term_aux = crit(probs, s['aux'].cls, 2, 5)  # L(z1^h, z2^h)
    losses = model.loss(v, None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    assert torch.allclose(losses['loss_base'], scale * term_base, atol=1e-6)
    assert torch.allclose(losses['loss_aux'], scale * term_aux, atol=1e-6)
    # the centre follows the target branch (teacher auxiliary output)
    assert torch.allclose(crit.center, 0.1 * t['aux'].cls.mean(0, keepdim=True), atol=1e-6)


def test_unknown_reduction_is_refused(build, tiny_dino):
    with pytest.raises(ValueError, match='reduction'):
        build(tiny_dino(auxiliary=CONVNEXT, reduction='avg'))


def test_gradients_reach_backbone_through_both_terms_and_not_teacher(build, tiny_dino):
    model = build(tiny_dino(auxiliary=CONVNEXT))
    losses = model.loss(views(), None)
    for name in ('loss_base', 'loss_aux'):
        model.zero_grad()
        losses[name].backward(retain_graph=True)
        assert model.student.backbone.patch_embed.projection.weight.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not any(p.requires_grad for p in model.teacher.parameters())


def test_separate_projectors_and_shared_last_layer(build, tiny_dino):
    model = build(tiny_dino(auxiliary=CONVNEXT))
    p = model.student.projectors
    assert p['base'].last_layer is not p['aux'].last_layer
    shared = build(tiny_dino(auxiliary=CONVNEXT, share_last_layer=True))
    p = shared.student.projectors
    assert p['base'].last_layer is p['aux'].last_layer
    assert p['base'].mlp is not p['aux'].mlp
    assert shared.teacher.module.projectors['base'].last_layer is \
        shared.teacher.module.projectors['aux'].last_layer


def test_side_by_side_heads_average_eq7(build, tiny_dino):
    heads = [dict(CONVNEXT, name='a'), dict(CONVNEXT, name='b', depth=1)]
    model = build(tiny_dino(auxiliary=heads))
    assert model.student.pairs == [('aux_a', ('base_a', 'aux_a'), 0.5),
                                   ('aux_b', ('base_b', 'aux_b'), 0.5)]
    assert set(model.student.projectors) == {'base_a', 'aux_a', 'base_b', 'aux_b'}
    v = views()
    with torch.no_grad():
        t, s = model.teacher(v[:2]), model.student(v)
    expected = {}
    for head in 'ab':
        crit = model.criteria[f'aux_{head}']
        probs = crit.teacher_probs(t[f'aux_{head}'].cls)
        for branch in (f'base_{head}', f'aux_{head}'):
            # 1/2 per head (Eq. 7), 1/2 per prediction of the head's target (the HSSL code)
            expected[f'loss_{branch}'] = 0.25 * crit(probs, s[branch].cls, 2, 5)
    losses = model.loss(v, None)
    assert set(losses) == set(expected)
    for name, value in expected.items():
        assert torch.allclose(losses[name], value, atol=1e-6), name
    with pytest.raises(ValueError, match='named "a"'):
        MODELS.build(tiny_dino(auxiliary=[dict(CONVNEXT, name='a'), dict(CONVNEXT, name='a')]))


def test_teacher_is_a_copy_of_the_initialised_student_without_drop_path(build, tiny_dino):
    model = build(tiny_dino(auxiliary=CONVNEXT))
    for (name, t), s in zip(model.teacher.module.state_dict().items(),
                            model.student.state_dict().values()):
        assert torch.equal(t, s), name
    cfg = tiny_dino(auxiliary=CONVNEXT)
    cfg['network']['backbone']['drop_path_rate'] = 0.5
    model = build(cfg).train()
    x = [torch.randn(2, 3, 32, 32)] * 2
    with torch.no_grad():
        assert torch.equal(model.teacher(x)['aux'].cls, model.teacher(x)['aux'].cls)
        assert not torch.equal(model.student(x)['aux'].cls, model.student(x)['aux'].cls)


def test_joint_drop_path_gives_the_head_the_largest_rates(tiny_dino):
    cfg = tiny_dino(auxiliary=dict(type='ConvNeXtHead', depth=2))
    cfg['network']['backbone']['drop_path_rate'] = 0.3
    model = MODELS.build(cfg)
    rates = torch.linspace(0, 0.3, 4).tolist()  # 2 base blocks + 2 head blocks
    head = model.student.aux_heads['aux']
    assert head.blocks[1].drop_path.drop_prob == pytest.approx(rates[3])
    # the first block has no shortcut, hence no drop path
    assert not hasattr(head.blocks[0].drop_path, 'drop_prob')
    last_base = model.student.backbone.layers[1].attn.out_drop
    assert last_base.drop_prob == pytest.approx(rates[1])


def test_network_groups_views_by_size_and_masks_only_masked_views(tiny_dino, build):
    cfg = tiny_dino(auxiliary=CONVNEXT)
    cfg['network']['backbone']['use_mask_token'] = True
    net = build(cfg).student.eval()
    v = views(batch=2)[:3]  # 32, 32, 16 px
    mask = torch.ones(2, 8, 8, dtype=torch.bool)
    with torch.no_grad():
        out = net(v, masks=[mask, None, None], num_patch_views=2)
        alone = [net([x]) for x in v]
        masked = net([v[0]], masks=[mask])
    assert out['base'].cls.shape == (6, 64) and out['aux'].patch.shape == (4, 64, 64)
    for i in (1, 2):  # unmasked views match their own forward
        assert torch.allclose(out['base'].cls[2 * i:2 * i + 2], alone[i]['base'].cls, atol=1e-5)
    assert torch.allclose(out['base'].cls[:2], masked['base'].cls, atol=1e-5)
    assert not torch.allclose(out['base'].cls[:2], alone[0]['base'].cls, atol=1e-3)


def test_one_seed_gives_one_initial_backbone_with_or_without_heads(tiny_dino, build):
    """A baseline / HSSL comparison at equal seed starts from the same backbone."""
    def backbone(cfg, seed=0):
        return build(cfg, seed).student.backbone.state_dict()

    base = backbone(tiny_dino())
    for other in (backbone(tiny_dino(CONVNEXT)),
                  backbone(tiny_dino([CONVNEXT, dict(type='ViTHead', depth=1)]))):
        assert all(torch.equal(base[k], other[k]) for k in base)
    reseeded = backbone(tiny_dino(), seed=1)
    assert not all(torch.equal(base[k], reseeded[k]) for k in base)
