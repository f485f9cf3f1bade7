import pytest
import torch

from hssl.models import ConvNeXtHead


def make(first_shortcut, depth=2, seed=0):
    torch.manual_seed(seed)
    head = ConvNeXtHead(in_channels=16, depth=depth, first_shortcut=first_shortcut)
    head.init_weights()
    return head.eval()


@pytest.mark.parametrize('hw', [(4, 4), (3, 5)])
def test_output_shapes_square_and_non_square(hw):
    head = make(False)
    out = head(torch.randn(2, 16, *hw))
    assert out.cls.shape == (2, 16)
    assert out.patch.shape == (2, hw[0] * hw[1], 16)


def test_first_shortcut_removed_does_not_pass_its_input_through():
    removed, kept = make(False), make(True)
    kept.load_state_dict(removed.state_dict())  # same weights, only the shortcut differs
    z = torch.randn(2, 16, 4, 4)
    b0_removed, b0_kept = removed.blocks[0], kept.blocks[0]
    f1 = b0_removed(z)  # F1(z)
    assert torch.allclose(b0_kept(z), z + f1, atol=1e-6)  # z + F1(z)
    # the whole head: F1(z) + F2(F1(z)) vs (z + F1(z)) + F2(z + F1(z))
    assert torch.allclose(removed.blocks(z), f1 + (kept.blocks[1](f1) - f1), atol=1e-5)
    assert torch.allclose(kept.blocks(z), kept.blocks[1](z + f1), atol=1e-5)
    # with the shortcut removed, the output does not change when z is added
    # to the input of a head whose first block ignores z (all weights zero)
    for p in removed.blocks[0].parameters():
        torch.nn.init.zeros_(p)
    for p in kept.blocks[0].parameters():
        torch.nn.init.zeros_(p)
    assert torch.count_nonzero(removed.blocks[0](z)) == 0
    assert torch.allclose(kept.blocks[0](z), z)


def test_cls_token_is_the_normalised_grid_average():
    head = make(False)
    grid = torch.randn(2, 16, 3, 3)
    out = head(grid)
    tokens = head.blocks(grid).flatten(2).transpose(1, 2)
    assert torch.allclose(out.cls, head.norm(tokens.mean(1)), atol=1e-6)
    assert torch.allclose(out.patch, head.norm(tokens), atol=1e-6)


def test_gradient_reaches_the_input_and_eval_is_deterministic():
    head = make(False)
    head.train()
    grid = torch.randn(2, 16, 4, 4, requires_grad=True)
    (head(grid).cls * torch.randn(2, 16)).sum().backward()  # a plain sum of a LayerNorm output is constant
    assert grid.grad is not None and grid.grad.abs().sum() > 0
    head.eval()
    assert torch.equal(head(grid).patch, head(grid).patch)


@pytest.mark.parametrize('bad', [0, -1, 1.5])
def test_depth_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match='depth must be an integer >= 1'):
        ConvNeXtHead(in_channels=8, depth=bad)
