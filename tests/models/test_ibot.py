"""iBOT + HSSL: the patch loss, masks, the teacher's unmasked views, patch-level HSSL."""
import math
import random

import numpy as np
import pytest
import torch

from hssl.datasets.transforms import BlockMaskGenerator
from hssl.models import MaskedPatchLoss
from hssl.registry import MODELS

CONVNEXT = dict(type='ConvNeXtHead', depth=2)


@pytest.fixture
def tiny_ibot(tiny_dino):
    """``tiny_ibot(auxiliary=None, patch_level_hssl=False, patch_out_channels=None,
    **network_kw)``: ``tiny_dino`` as iBOT (mask token, patch loss), built with seed 0."""
    def make(auxiliary=None, patch_level_hssl=False, patch_out_channels=None, **network_kw):
        cfg = tiny_dino(auxiliary, **network_kw)
        cfg.update(type='IBOT', patch_loss=dict(type='MaskedPatchLoss',
                                                out_channels=patch_out_channels or 64),
                   patch_level_hssl=patch_level_hssl, lambda2=0.5)
        cfg['network']['backbone']['use_mask_token'] = True
        cfg['network']['projector']['patch_out_channels'] = patch_out_channels
        torch.manual_seed(0)
        model = MODELS.build(cfg)
        model.init_weights()
        return model
    return make


def views_and_masks(batch=2):
    g = torch.Generator().manual_seed(1)
    views = ([torch.randn(batch, 3, 32, 32, generator=g) for _ in range(2)]
             + [torch.randn(batch, 3, 16, 16, generator=g) for _ in range(2)])
    masks = [torch.zeros(batch, 8, 8, dtype=torch.bool) for _ in range(2)]
    masks[0][0, :3] = True  # image 0 of view 0: 24 masked tokens; image 1: none
    masks[1][:, 2:6, 2:6] = True
    return views, masks


def test_patch_loss_matches_hand_computation_with_an_unmasked_image():
    loss = MaskedPatchLoss(out_channels=2, student_temp=1.0, teacher_temp=1.0)
    # 1 view, batch 2, 2 tokens, K = 2
    t = torch.tensor([[[0.0, math.log(3.0)], [0.0, 0.0]],
                      [[5.0, 0.0], [0.0, 5.0]]])
    s = torch.tensor([[[math.log(2.0), 0.0], [0.0, 0.0]],
                      [[0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[[True, False]], [[False, False]]])  # image 1 has no masked token
    value = loss(loss.teacher_probs(t), s, [mask])
    ce = -(0.25 * math.log(2 / 3) + 0.75 * math.log(1 / 3))  # image 0, token 0 only
    assert math.isclose(value.item(), (ce + 0.0) / 2, rel_tol=1e-6)
    loss.update_center(t)
    expected = 0.1 * t.mean(1).mean(0)
    assert torch.allclose(loss.center.flatten(), expected)


def test_mask_generator_ratio_statistics():
    random.seed(0)
    np.random.seed(0)
    gen = BlockMaskGenerator(patch_size=4, pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2))
    ratios = np.array([gen.transform({'img': np.zeros((56, 56, 3))})['patch_mask'].mean()
                       for _ in range(3000)])
    assert 0.47 < (ratios == 0).mean() < 0.53  # half the views unmasked
    masked = ratios[ratios > 0]
    assert 0.26 < masked.mean() < 0.33  # ratio ~ U(0.1, 0.5); blocks may stop a bit short
    assert masked.max() <= 0.5 + 1e-9
    rand = BlockMaskGenerator(patch_size=4, pred_ratio=0.25, pred_ratio_var=0.0, pred_shape='rand')
    assert rand.transform({'img': np.zeros((32, 32, 3))})['patch_mask'].sum() == 16
    with pytest.raises(ValueError, match='impossible'):
        BlockMaskGenerator(pred_ratio=0.9, pred_ratio_var=0.2)
    with pytest.raises(ValueError, match='not a multiple of patch_size=16'):
        BlockMaskGenerator(patch_size=16).transform({'img': np.zeros((40, 40, 3))})


def test_teacher_never_sees_a_masked_input(tiny_ibot):
    model = tiny_ibot(CONVNEXT)
    seen = []
    backbone = model.teacher.module.backbone
    original = backbone.forward

    def spy(x, mask=None):
        seen.append(mask)
        return original(x, mask)

    backbone.forward = spy
    views, masks = views_and_masks()
    model.loss(views, None, masks=masks)
    assert seen == [None]  # one call for the two globals, unmasked


@pytest.mark.parametrize('patch_level', [False, True])
def test_ibot_hssl_losses_match_their_definition(patch_level, tiny_ibot):
    model = tiny_ibot(CONVNEXT, patch_level_hssl=patch_level)
    views, masks = views_and_masks()
    with torch.no_grad():
        t = model.teacher(views[:2], num_patch_views=2)
        s = model.student(views, masks=masks + [None, None], num_patch_views=2)
    cls = model.criteria['aux']
    cls_probs = cls.teacher_probs(t['aux'].cls)
    target = 'aux' if patch_level else 'base'
    patch = model.patch_criteria[target]
    patch_probs = patch.teacher_probs(t[target].patch)
    # the HSSL code's PretrainLoss: each target's predictions averaged
    expected = {f'loss_cls_{b}': 0.5 * cls(cls_probs, s[b].cls, 2, 4) for b in ('base', 'aux')}
    patch_branches = ('base', 'aux') if patch_level else ('base',)
    for b in patch_branches:
        expected[f'loss_patch_{b}'] = 0.5 * patch(patch_probs, s[b].patch, masks) / len(patch_branches)
    losses = model.loss(views, None, masks=masks)
    assert set(losses) == set(expected)
    for name, value in expected.items():
        assert torch.allclose(losses[name], value, atol=1e-6), name
    assert list(model.patch_criteria) == [target]


def test_baseline_ibot_and_masks_from_data_samples(tiny_ibot):
    model = tiny_ibot()
    assert model.patch_pairs == [('base', ('base',), 1.0)]
    views, masks = views_and_masks()

    class Sample(dict):
        patch_mask = None

    samples = []
    for b in range(2):
        sample = Sample(patch_mask=1)
        sample.patch_mask = [masks[0][b].numpy(), masks[1][b].numpy(), None, None]
        samples.append(sample)
    from_samples = model.masks_from(samples, views)
    assert all(torch.equal(a, b) for a, b in zip(from_samples, masks))
    losses = model.loss(views, samples)
    assert set(losses) == {'loss_cls_base', 'loss_patch_base'}
    sum(losses.values()).backward()
    assert model.student.backbone.mask_token.grad.abs().sum() > 0
    with pytest.raises(KeyError, match='patch_mask'):
        model.loss(views, [{}, {}])


def test_masking_off_before_the_start_epoch(tiny_ibot):
    from types import SimpleNamespace

    from hssl.engine.hooks import MaskStartHook
    model = tiny_ibot(CONVNEXT)
    hook = MaskStartHook(start_epoch=2)
    runner = SimpleNamespace(model=model, epoch=1)
    hook.before_train_iter(runner, 0)
    views, masks = views_and_masks()
    losses = model.loss(views, None, masks=masks)
    assert losses['loss_patch_base'].item() == 0.0  # no masked token, no MIM
    with torch.no_grad():
        unmasked = model.student(views[:1])['base'].cls
    runner.epoch = 2
    hook.before_train_iter(runner, 0)
    assert model.masking and model.loss(views, None, masks=masks)['loss_patch_base'] > 0
    assert unmasked.shape == (2, 64)


def test_bf16_autocast_runs_ibot_hssl(tiny_ibot):
    model = tiny_ibot(CONVNEXT, patch_level_hssl=True)
    views, masks = views_and_masks()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(views, None, masks=masks)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.student.backbone.mask_token.grad is not None


def test_separate_patch_last_layer_is_used_for_patches_only_and_frozen_with_the_cls_one(
        tiny_ibot, fake_runner):
    from hssl.engine.hooks import FreezeLastLayerHook
    model = tiny_ibot(CONVNEXT, patch_level_hssl=True, patch_out_channels=24, share_last_layer=True)
    proj = model.student.projectors
    assert proj['aux'].patch_last_layer is proj['base'].patch_last_layer  # shared, as last_layer
    views, masks = views_and_masks()
    out = model.student(views, masks=masks + [None, None], num_patch_views=2)
    assert out['base'].cls.shape == (8, 64) and out['base'].patch.shape == (4, 64, 24)
    # patch tokens go through the shared MLP, then the patch layer; cls through last_layer
    tokens = model.student.backbone(torch.cat(views[:2]), mask=torch.cat(masks)).patch
    head = proj['base']
    expected = head.patch_last_layer(torch.nn.functional.normalize(head.mlp(tokens), dim=-1))
    assert torch.allclose(out['base'].patch, expected, atol=1e-6)

    runner = fake_runner(model, epoch=0)
    hook = FreezeLastLayerHook(epochs=1)
    hook.before_train(runner)
    weights = [proj['base'].last_layer.parametrizations.weight.original1,
               proj['base'].patch_last_layer.parametrizations.weight.original1]
    before = [w.detach().clone() for w in weights]
    runner.optim_wrapper.update_params(sum(model.loss(views, None, masks=masks).values()))
    assert all(torch.equal(w, b) for w, b in zip(weights, before))  # both frozen in epoch 0
    runner.epoch = 1
    runner.optim_wrapper.update_params(sum(model.loss(views, None, masks=masks).values()))
    assert not any(torch.equal(w, b) for w, b in zip(weights, before))
    hook.after_train(runner)
