"""MAE and MAE + HSSL (App. D): masking, the sparse encoder, the two reconstruction losses."""
import pytest
import torch
from torch.nn import functional as F

from hssl.models.algorithms.mae import random_patch_mask, restore_ids
from hssl.models.backbones.mae_vit import visible_indices
from hssl.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
CONFIGS = ['mae/mae_vits16_400e_in1k.py', 'hssl/mae_vits16_convnext_400e_in1k.py',
           'mae/mae_vitt4_400e_cifar10.py', 'hssl/mae_vitt4_convnext_400e_cifar10.py']


def tiny_mae(auxiliary=None, **kw):
    return dict(
        type='MAE',
        network=dict(type='HeterogeneousNetwork', projector=None, auxiliary=auxiliary,
                     backbone=dict(type='MAEViT', arch=ARCH, img_size=32, patch_size=4)),
        decoder=dict(type='MAEPretrainDecoder', num_patches=64, patch_size=4,
                     decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2),
        pixel_head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=4,
                        loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        **kw)


def test_random_mask_hides_the_same_number_of_patches_per_image():
    torch.manual_seed(0)
    mask = random_patch_mask(5, 64, 0.75)
    assert mask.shape == (5, 64) and mask.sum(1).tolist() == [48] * 5
    assert not torch.equal(mask[0], mask[1])
    assert random_patch_mask(2, 196, 0.75).sum(1).tolist() == [147, 147]  # MAE keeps int(49.0)


def test_restore_ids_put_visible_and_mask_tokens_back_in_patch_order():
    mask = torch.tensor([[False, True, True, False, True], [True, False, False, True, True]])
    keep = visible_indices(mask)
    assert keep.tolist() == [[0, 3], [1, 2]]
    tokens = torch.cat((keep.float(), torch.full((2, 3), -1.0)), dim=1)  # visible ids, then masks
    restored = torch.gather(tokens, 1, restore_ids(mask))
    assert restored.tolist() == [[0, -1, -1, 3, -1], [-1, 1, 2, -1, -1]]
    with pytest.raises(ValueError, match=r'same number of masked patches, got \[1, 2\]'):
        visible_indices(torch.tensor([[True, False, False], [True, True, False]]))


def test_sparse_encoder_keeps_the_visible_tokens_and_fills_the_grid():
    vit = MODELS.build(dict(type='MAEViT', arch=ARCH, img_size=32, patch_size=4,
                            grid_fill='mask_token'))
    vit.init_weights()
    x = torch.randn(2, 3, 32, 32)
    none = torch.zeros(2, 8, 8, dtype=torch.bool)
    full, dense = vit(x), vit(x, mask=none)  # nothing masked: the plain ViT
    assert torch.allclose(full.patch, dense.patch, atol=1e-5)
    assert torch.allclose(full.grid, dense.grid, atol=1e-5)
    mask = random_patch_mask(2, 64, 0.75).view(2, 8, 8)
    out = vit(x, mask=mask)
    assert out.patch.shape == (2, 16, 32) and out.grid.shape == (2, 32, 8, 8)
    token = vit.grid_mask_token.view(32)
    grid = out.grid.flatten(2).transpose(1, 2)  # (B, 64, C)
    assert torch.equal(grid[mask.flatten(1)], token.expand(96, 32))
    assert not torch.isclose(grid[~mask.flatten(1)], token).all(dim=1).any()
    zeros = MODELS.build(dict(type='MAEViT', arch=ARCH, img_size=32, patch_size=4,
                              grid_fill='zeros'))
    grid = zeros(x, mask=mask).grid.flatten(2).transpose(1, 2)
    assert grid[mask.flatten(1)].abs().sum() == 0 and zeros.grid_mask_token is None
    with pytest.raises(ValueError, match='mask of shape'):
        vit(x, mask=mask[:, :4])


def test_baseline_reconstructs_normalised_pixels_of_the_masked_patches():
    model = MODELS.build(tiny_mae())
    assert model.student.backbone.grid_fill is None and not model.student.projectors
    x = torch.randn(2, 3, 32, 32)
    torch.manual_seed(3)
    losses = model.loss(x, None)
    assert set(losses) == {'loss_base'}
    # by hand, with the same mask: decoder output vs per-patch normalised pixels
    torch.manual_seed(3)
    mask = random_patch_mask(2, 64, 0.75)
    out = model.student([x], masks=[mask.view(2, 8, 8)], num_patch_views=1)
    pred = model.decoders['base'](torch.cat((out['base'].cls[:, None], out['base'].patch), 1),
                                  restore_ids(mask))
    patches = x.reshape(2, 3, 8, 4, 8, 4).permute(0, 2, 4, 3, 5, 1).reshape(2, 64, 48)
    target = (patches - patches.mean(-1, keepdim=True)) / (patches.var(-1, keepdim=True) + 1e-6) ** .5
    per_patch = ((pred - target) ** 2).mean(-1)
    assert torch.allclose(losses['loss_base'], per_patch[mask].mean(), rtol=1e-5)


def test_hssl_gives_both_reconstruction_losses_with_gradients_into_the_base_model():
    model = MODELS.build(tiny_mae(auxiliary=dict(type='ConvNeXtHead', depth=2)))
    assert model.student.backbone.grid_fill == 'mask_token'
    assert model.decoders['base'].decoder_pred.out_features == 32  # the head's tokens
    assert model.decoders['aux'].decoder_pred.out_features == 4 * 4 * 3  # pixels
    x = torch.randn(2, 3, 32, 32)
    torch.manual_seed(5)
    losses = model.loss(x, None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    vit, head = model.student.backbone, model.student.aux_heads['aux']
    for name in ('loss_base', 'loss_aux'):
        model.zero_grad()
        losses[name].backward(retain_graph=True)
        assert vit.layers[0].attn.qkv.weight.grad.abs().sum() > 0, name  # through both
        head_grad = head.blocks[0].mlp.fc1.weight.grad
        if name == 'loss_base':  # the head's tokens are a stop-gradient target
            assert head_grad is None or head_grad.abs().sum() == 0
            assert vit.grid_mask_token.grad is None or vit.grid_mask_token.grad.abs().sum() == 0
        else:
            assert head_grad.abs().sum() > 0 and vit.grid_mask_token.grad.abs().sum() > 0
    # the base model's target: the head's layer-normalised tokens at the masked positions
    torch.manual_seed(5)
    mask = random_patch_mask(2, 64, 0.75)
    out = model.student([x], masks=[mask.view(2, 8, 8)], num_patch_views=1)
    pred = model.decoders['base'](torch.cat((out['base'].cls[:, None], out['base'].patch), 1),
                                  restore_ids(mask))
    goal = F.layer_norm(out['aux'].patch, (32,))
    assert torch.allclose(losses['loss_base'], ((pred - goal) ** 2).mean(-1)[mask].mean(),
                          rtol=1e-5)


def test_aux_input_option_and_bad_configs():
    aux = dict(type='ConvNeXtHead', depth=1)
    model = MODELS.build(tiny_mae(auxiliary=aux, aux_input='zeros'))
    assert model.student.backbone.grid_fill == 'zeros'
    assert model.student.backbone.grid_mask_token is None
    with pytest.raises(ValueError, match="aux_input must be 'mask_token' or 'zeros'"):
        MODELS.build(tiny_mae(auxiliary=aux, aux_input='noise'))
    cfg = tiny_mae()
    cfg['network']['projector'] = dict(type='DINOProjectionHead')
    with pytest.raises(ValueError, match='projector=None'):
        MODELS.build(cfg)


def test_hssl_recipes_differ_from_their_baselines_only_by_the_head(load,
                                                                   assert_differs_only_by_head):
    for base, hssl in (('mae/mae_vits16_400e_in1k.py', 'hssl/mae_vits16_convnext_400e_in1k.py'),
                       ('mae/mae_vitt4_400e_cifar10.py', 'hssl/mae_vitt4_convnext_400e_cifar10.py')):
        assert_differs_only_by_head(base, hssl)
    assert load('hssl/mae_vits16_convnext_400e_in1k.py').train_cfg.max_epochs == 400


@pytest.mark.parametrize('name', CONFIGS)
def test_every_mae_config_trains_an_iteration_at_reduced_size(name, load):
    cfg = load(name)
    cfg.model.network.backbone.arch = ARCH
    cfg.model.network.backbone.update(img_size=32, patch_size=4)
    cfg.model.decoder.update(num_patches=64, patch_size=4, decoder_embed_dim=16,
                             decoder_depth=1, decoder_num_heads=2)
    cfg.model.pixel_head.patch_size = 4
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    data = {'inputs': torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8),
            'data_samples': [None, None]}
    losses = model.loss(model.data_preprocessor(data, True)['inputs'], None)
    sum(losses.values()).backward()
    optim.step()
    assert all(torch.isfinite(v) for v in losses.values())
    assert set(losses) == ({'loss_base', 'loss_aux'} if 'hssl' in name else {'loss_base'})
