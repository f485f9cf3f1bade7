"""HeterogeneousNetwork.forward(branches=...): only the asked branches are
computed (what the EMA teacher needs: the pairs' targets), with the values of
the full forward, and the losses of DINO/iBOT are those of the full teacher."""
import pytest
import torch

from hssl.registry import MODELS

HEAD = dict(type='ConvNeXtHead', depth=1)


@pytest.fixture
def network(tiny_dino):
    """``network(auxiliary=HEAD)``: the network of ``tiny_dino``, seed 0, in eval mode."""
    def make(auxiliary=HEAD):
        torch.manual_seed(0)
        net = MODELS.build(tiny_dino(auxiliary=auxiliary)['network'])
        net.init_weights()
        return net.eval()
    return make


def _views():
    torch.manual_seed(1)
    return [torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 3, 16, 16)]


def test_branches_subset_matches_full_forward(network):
    net, views = network(), _views()
    full = net(views, num_patch_views=2)
    calls = []
    net.aux_heads['aux'].register_forward_hook(lambda *a: calls.append(1))
    only_aux = net(views, num_patch_views=2, branches=['aux'])
    assert list(only_aux) == ['aux'] and len(calls) == 2  # two resolution groups
    torch.testing.assert_close(only_aux['aux'].cls, full['aux'].cls)
    torch.testing.assert_close(only_aux['aux'].patch, full['aux'].patch)
    only_base = net(views, num_patch_views=2, branches=['base'])
    assert list(only_base) == ['base'] and len(calls) == 2  # the head did not run
    torch.testing.assert_close(only_base['base'].cls, full['base'].cls)


def test_unknown_branch_is_named(network):
    with pytest.raises(KeyError, match=r"no branch \['auxx'\]; branches: \['aux', 'base'\]"):
        network()(_views(), branches=['auxx'])


def _ibot(tiny_vit, patch_level_hssl):
    cfg = dict(type='IBOT', num_global_views=2, patch_level_hssl=patch_level_hssl,
               network=dict(type='HeterogeneousNetwork', backbone=tiny_vit(use_mask_token=True),
                            projector=dict(type='DINOProjectionHead', out_channels=64,
                                           hidden_channels=32, bottleneck_channels=16),
                            auxiliary=HEAD),
               loss=dict(type='DINOLoss', out_channels=64),
               patch_loss=dict(type='MaskedPatchLoss', out_channels=64))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('build', [lambda vit, dino: _ibot(vit, False),
                                   lambda vit, dino: _ibot(vit, True),
                                   lambda vit, dino: _dino(dino)])
def test_losses_equal_those_of_the_full_teacher(build, tiny_vit, tiny_dino):
    views = _views()
    masks = [torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(i)) < 0.3
             for i in range(2)]
    losses = {}
    for skip in (True, False):
        model = build(tiny_vit, tiny_dino)
        if not skip:  # the teacher as before: every branch
            full = model.teacher.module.forward
            model.teacher.module.forward = lambda *a, branches=None, **k: full(*a, **k)
        kw = dict(masks=masks) if hasattr(model, 'patch_criteria') else {}
        losses[skip] = model.loss(views, None, **kw)
    assert losses[True].keys() == losses[False].keys()
    for key in losses[True]:
        torch.testing.assert_close(losses[True][key], losses[False][key])


def _dino(tiny_dino):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dino(auxiliary=HEAD))
    model.init_weights()
    return model
