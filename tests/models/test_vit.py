import pytest
import torch

from hssl.registry import MODELS


@pytest.fixture
def build_vit(tiny_vit):
    """``build_vit(**overrides)``: ``tiny_vit`` built, initialised with seed 0, in eval mode."""
    def build(**kw):
        torch.manual_seed(0)
        vit = MODELS.build(tiny_vit(**kw))
        vit.init_weights()
        return vit.eval()
    return build


@pytest.mark.parametrize('size', [32, 16, (32, 16)])
def test_outputs_and_pre_norm_grid(size, build_vit):
    vit = build_vit()
    h, w = (size, size) if isinstance(size, int) else size
    out = vit(torch.randn(2, 3, h, w))
    assert out.cls.shape == (2, 32)
    assert out.patch.shape == (2, (h // 4) * (w // 4), 32)
    assert out.grid.shape == (2, 32, h // 4, w // 4)
    # patch tokens are the final norm of the grid tokens
    tokens = out.grid.flatten(2).transpose(1, 2)
    assert torch.allclose(vit.ln1(tokens), out.patch, atol=1e-5)


def test_presets_and_errors(tiny_vit, build_vit):
    assert MODELS.build(dict(type='ViT', arch='small', img_size=32, patch_size=4)).embed_dims == 384
    with pytest.raises(ValueError, match='unknown arch "huge-ish"'):
        MODELS.build(dict(type='ViT', arch='huge-ish'))
    with pytest.raises(ValueError, match='patch_size=5 does not divide img_size=32'):
        MODELS.build(tiny_vit(patch_size=5))
    with pytest.raises(ValueError, match='"out_type" is fixed'):
        MODELS.build(tiny_vit(out_type='cls_token'))
    with pytest.raises(ValueError, match='not a multiple of patch_size=4'):
        build_vit()(torch.randn(1, 3, 30, 30))


def test_mask_token_replaces_masked_patches(build_vit):
    vit = build_vit(use_mask_token=True)
    x = torch.randn(1, 3, 32, 32)
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    assert torch.allclose(vit(x, mask=mask).cls, vit(x).cls)
    mask[0, :4] = True
    x2 = x.clone()
    x2[:, :, :16] = torch.randn(1, 3, 16, 32)  # change only the masked patches
    assert torch.allclose(vit(x, mask=mask).cls, vit(x2, mask=mask).cls, atol=1e-6)
    assert not torch.allclose(vit(x).cls, vit(x2).cls)
    with pytest.raises(RuntimeError, match='no mask token'):
        build_vit()(x, mask=mask)
