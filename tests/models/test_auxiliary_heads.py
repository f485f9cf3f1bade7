"""The auxiliary head zoo: six architectures, ConcatHeads, a user's own head."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch import nn

from hssl.models.auxiliary import (ConcatHeads, ConvNeXtHead, PoolFormerHead, ResMLPHead,
                                   ResNetHead, SwinHead, ViTHead)
from hssl.models.auxiliary.resmlp import GridTokenMixing
from hssl.models.auxiliary.swin import fit_window
from hssl.registry import MODELS
from tests import DATA, REPO

WIDTH = 32
HEADS = {
    'ConvNeXtHead': dict(type='ConvNeXtHead'),
    'ResNetHead': dict(type='ResNetHead'),
    'ResNetHead-basic': dict(type='ResNetHead', block='basic'),
    'PoolFormerHead': dict(type='PoolFormerHead'),
    'ResMLPHead': dict(type='ResMLPHead', grid_size=4),
    'SwinHead': dict(type='SwinHead', window_size=3),
    'ViTHead': dict(type='ViTHead'),
    'ConcatHeads': dict(type='ConcatHeads', heads=[dict(type='ConvNeXtHead'),
                                                   dict(type='ResMLPHead', grid_size=4)]),
}


def build(cfg, seed=0, **kw):
    torch.manual_seed(seed)
    head = MODELS.build(dict(cfg, in_channels=WIDTH, **kw))
    head.init_weights()
    return head


def to_layout(head, grid):
    """A (B, C, h, w) grid in the layout ``head.blocks`` take."""
    if head.layout == 'nhwc':
        return grid.permute(0, 2, 3, 1)
    if head.layout == 'nlc':
        return grid.flatten(2).transpose(1, 2)
    return grid


@pytest.mark.parametrize('name', HEADS)
@pytest.mark.parametrize('hw', [(4, 4), (3, 5)])
def test_output_shapes_square_and_non_square(name, hw):
    head = build(HEADS[name], depth=2).eval()
    width = head.out_channels
    out = head(torch.randn(2, WIDTH, *hw))
    assert out.cls.shape == (2, width)
    assert out.patch.shape == (2, hw[0] * hw[1], width)
    assert torch.isfinite(out.patch).all()


@pytest.mark.parametrize('name', HEADS)
def test_gradient_reaches_the_grid_and_eval_is_deterministic(name):
    head = build(HEADS[name], depth=2).train()
    grid = torch.randn(2, WIDTH, 4, 4, requires_grad=True)
    out = head(grid)
    g = torch.Generator().manual_seed(1)
    # a random projection: the plain sum of a LayerNorm output has no gradient
    loss = (out.cls * torch.randn(out.cls.shape, generator=g)).sum() \
        + (out.patch * torch.randn(out.patch.shape, generator=g)).sum()
    loss.backward()
    assert grid.grad is not None and grid.grad.abs().sum() > 0
    assert all(p.grad is not None for p in head.parameters() if p.requires_grad)
    head.eval()
    with torch.no_grad():
        a, b = head(grid), head(grid)
    assert torch.equal(a.cls, b.cls) and torch.equal(a.patch, b.patch)


@pytest.mark.parametrize('name', [n for n in HEADS if n != 'ConcatHeads'])
def test_cls_token_is_the_normalised_average_of_the_output_grid(name):
    head = build(HEADS[name]).eval()
    grid = torch.randn(2, WIDTH, 3, 3)
    out = head(grid)
    y = head.blocks(to_layout(head, grid))
    tokens = y.flatten(2).transpose(1, 2) if head.layout == 'nchw' else y.reshape(2, 9, WIDTH)
    assert torch.allclose(out.cls, head.norm(tokens.mean(1)), atol=1e-5)
    assert torch.allclose(out.patch, head.norm(tokens), atol=1e-5)


@pytest.mark.parametrize('bad', [0, -1, 1.5])
def test_depth_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match='depth must be an integer >= 1'):
        ConvNeXtHead(in_channels=8, depth=bad)


def test_concat_width_is_the_sum_and_outputs_are_the_inner_ones():
    head = build(dict(type='ConcatHeads', heads=[dict(type='ConvNeXtHead', depth=1),
                                                 dict(type='ViTHead', depth=2),
                                                 dict(type='PoolFormerHead', depth=1)])).eval()
    assert head.out_channels == 3 * WIDTH
    grid = torch.randn(2, WIDTH, 3, 5)
    out = head(grid)
    assert out.cls.shape == (2, 3 * WIDTH) and out.patch.shape == (2, 15, 3 * WIDTH)
    for i, inner in enumerate(head.heads):  # each inner head keeps its own norm
        o = inner(grid)
        assert torch.equal(out.cls[:, i * WIDTH:(i + 1) * WIDTH], o.cls)
        assert torch.equal(out.patch[..., i * WIDTH:(i + 1) * WIDTH], o.patch)


def test_concat_continues_the_networks_drop_path_rates_to_each_depth():
    head = ConcatHeads(WIDTH, heads=[dict(type='ConvNeXtHead', depth=1),
                                     dict(type='ConvNeXtHead', depth=3),
                                     dict(type='ConvNeXtHead', depth=2, drop_path_rate=0.0)],
                       drop_path_rate=[0.2, 0.25, 0.3])
    rates = [[getattr(b.drop_path, 'drop_prob', 0.0) for b in h.blocks] for h in head.heads]
    assert rates[0] == [0.0]  # its only block has no shortcut, hence no drop path
    assert rates[1] == pytest.approx([0.0, 0.25, 0.3])
    assert rates[2] == [0.0, 0.0]  # its own setting wins
    with pytest.raises(TypeError, match='ConcatHeads.heads\\[0\\]: ConvNeXtHead has no option "dpeth"'):
        ConcatHeads(WIDTH, heads=[dict(type='ConvNeXtHead', dpeth=2)])


# --- first shortcut ---------------------------------------------------------------
def _zero(*modules):
    for m in modules:
        for p in m.parameters():
            nn.init.zeros_(p)


# two-residual blocks: (zero the token mixer's branch, zero the MLP's branch)
TWO_RESIDUALS = {
    'PoolFormerHead': (lambda b: _zero(b.norm1), lambda b: _zero(b.mlp.fc2)),  # pool(0) - 0 = 0
    'ViTHead': (lambda b: _zero(b.attn.proj), lambda b: _zero(b.mlp.fc2)),
    'SwinHead': (lambda b: _zero(b.attn.proj), lambda b: _zero(b.mlp.fc2)),
    'ResMLPHead': (lambda b: _zero(b.linear_tokens), lambda b: _zero(b.mlp_channels.fc2)),
}
SINGLE_RESIDUAL = {'ConvNeXtHead': None, 'ResNetHead': 'act3', 'ResNetHead-basic': 'act2'}


def removed_and_kept(name):
    removed = build(HEADS[name], depth=2, first_shortcut=False)
    kept = build(HEADS[name], depth=2, first_shortcut=True)
    with torch.no_grad():  # nothing trivially zero (biases, norms)
        for p in removed.parameters():
            p.copy_(0.3 * torch.randn_like(p))
    kept.load_state_dict(removed.state_dict())  # same weights, only the shortcut differs
    return removed.eval(), kept.eval()


@pytest.mark.parametrize('name', SINGLE_RESIDUAL)
def test_first_shortcut_single_residual_block(name):
    removed, kept = removed_and_kept(name)
    b_removed, b_kept = removed.blocks[0], kept.blocks[0]
    z = to_layout(removed, torch.randn(2, WIDTH, 4, 4))
    act = SINGLE_RESIDUAL[name]
    if act:  # ResNet: act(z + F(z)) vs act(F(z)); compare before the final activation
        assert (b_removed(z) >= 0).all()
        setattr(b_removed, act, nn.Identity())
        setattr(b_kept, act, nn.Identity())
    with torch.no_grad():
        f1 = b_removed(z)
        assert torch.allclose(b_kept(z), z + f1, atol=1e-5)
        assert f1.abs().sum() > 0


@pytest.mark.parametrize('name', TWO_RESIDUALS)
@pytest.mark.parametrize('hw', [(4, 4), (3, 5)])
def test_first_shortcut_two_residual_block_removes_the_token_mixers(name, hw):
    zero_mixer, zero_mlp = TWO_RESIDUALS[name]
    z = to_layout(build(HEADS[name]), torch.randn(2, WIDTH, *hw))
    with torch.no_grad():
        # MLP branch zeroed: the block is (shortcut +) mixer branch, so with the same
        # weights kept(z) = z + removed(z): the removed residual is the token mixer's
        removed, kept = removed_and_kept(name)
        zero_mlp(removed.blocks[0])
        zero_mlp(kept.blocks[0])
        mixed = removed.blocks[0](z)
        assert torch.allclose(kept.blocks[0](z), z + mixed, atol=1e-5)
        assert mixed.abs().sum() > 0
        # mixer branch zeroed: the removed block no longer sees z (its output is that of
        # the kept block on a zero input: MLP residual on 0), the kept block passes z on
        removed, kept = removed_and_kept(name)
        zero_mixer(removed.blocks[0])
        zero_mixer(kept.blocks[0])
        const = kept.blocks[0](torch.zeros_like(z))
        assert const.abs().sum() > 0  # the MLP residual is there
        assert torch.allclose(removed.blocks[0](z), const, atol=1e-5)
        assert torch.allclose(removed.blocks[0](2 * z + 1), const, atol=1e-5)
        assert not torch.allclose(kept.blocks[0](z), const, atol=1e-3)


@pytest.mark.parametrize('name', [n for n in HEADS if n != 'ConcatHeads'])
def test_first_block_has_no_drop_path_and_later_blocks_do(name):
    head = build(HEADS[name], depth=3, drop_path_rate=0.3)
    drop = [[m.drop_prob for m in b.modules() if hasattr(m, 'drop_prob')] for b in head.blocks]
    assert drop[0] == [] and drop[2] and all(p == pytest.approx(0.3) for p in drop[2])


# --- architecture specifics -------------------------------------------------------------
def test_swin_windows_fit_every_grid_and_the_head_serves_all_sizes():
    assert [fit_window(s, 7) for s in (14, 6, 3, 5, 7, 8, 16)] == [7, 6, 3, 5, 7, 4, 6]
    head = build(dict(type='SwinHead'), depth=2).eval()  # window 7; block 1 is shifted
    with torch.no_grad():
        big = torch.randn(2, WIDTH, 14, 14)
        first = head(big).patch
        shifted = head.blocks[1]
        assert shifted.shift_size == (3, 3) and shifted.window_size == (7, 7)
        for hw in [(6, 6), (3, 5), (8, 8), (11, 9), (16, 6)]:
            assert head(torch.randn(2, WIDTH, *hw)).patch.shape[1] == hw[0] * hw[1]
        assert shifted.window_size == (6, 6) and shifted.shift_size == (3, 0)  # 16x6 last
        assert torch.equal(head(big).patch, first)  # state after other sizes does not leak


def test_swin_small_window_uses_the_matching_part_of_the_bias_table():
    block = build(dict(type='SwinHead'), depth=1).blocks[0]
    block.fit(3, 5)
    table = block.attn.relative_position_bias_table  # (13 * 13, heads) for window 7
    bias = block.attn._get_rel_pos_bias()[0, 0]  # (15, 15): head 0, tokens of the 3x5 window
    # token (0, 0) to token (2, 4): offset (-2, -4) -> row (-2 + 6) * 13 + (-4 + 6)
    assert bias[0, 14] == table[4 * 13 + 2, 0]
    assert bias[14, 0] == table[8 * 13 + 10, 0]


def test_resmlp_is_timms_block_on_its_grid_and_resamples_other_grids():
    from timm.models.mlp_mixer import ResBlock
    head = build(dict(type='ResMLPHead', grid_size=(4, 5)), depth=1, first_shortcut=True).eval()
    ref = ResBlock(WIDTH, 20)
    ref.load_state_dict(head.blocks[0].state_dict())
    grid = torch.randn(2, WIDTH, 4, 5)
    with torch.no_grad():
        ours = head.blocks[0](grid.permute(0, 2, 3, 1)).reshape(2, 20, WIDTH)
        assert torch.allclose(ours, ref.eval()(grid.flatten(2).transpose(1, 2)), atol=1e-6)
        # another grid: resize to (4, 5), cross-patch linear, resize back
        mixing = head.blocks[0].linear_tokens
        assert isinstance(mixing, GridTokenMixing)
        x = torch.randn(2, WIDTH, 3, 3)
        up = nn.functional.interpolate(x, size=(4, 5), mode='bilinear', align_corners=False)
        mixed = nn.functional.linear(up.flatten(2), mixing.weight, mixing.bias).view(2, WIDTH, 4, 5)
        expected = nn.functional.interpolate(mixed, size=(3, 3), mode='bilinear',
                                             align_corners=False, antialias=True)
        got = mixing(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)  # it takes (B, w, h, C)
        assert torch.allclose(got, expected, atol=1e-5)


def test_resnet_options():
    assert type(build(dict(type='ResNetHead'), depth=1).blocks[0]).__name__ == 'Bottleneck'
    assert type(build(dict(type='ResNetHead', block='basic'), depth=1).blocks[0]).__name__ == 'BasicBlock'
    with pytest.raises(ValueError, match='block must be one of'):
        ResNetHead(WIDTH, block='wide')


def test_attention_heads_follow_the_width():
    assert ViTHead(384, depth=1).num_heads == 6 and ViTHead(768, depth=1).num_heads == 12
    assert SwinHead(384, depth=1).num_heads == 12 and SwinHead(192, depth=1).num_heads == 6
    assert ViTHead(32, depth=1).num_heads == 1
    with pytest.raises(ValueError, match='not divisible'):
        ViTHead(100, depth=1, num_heads=3)


def test_everything_is_exported_and_registered():
    for cls in (ConcatHeads, ConvNeXtHead, PoolFormerHead, ResMLPHead, ResNetHead, SwinHead, ViTHead):
        assert MODELS.get(cls.__name__) is cls


# --- inside DINO + HSSL -------------------------------------------------------------------
def multicrop(seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(2, 3, 32, 32, generator=g) for _ in range(2)]
            + [torch.randn(2, 3, 16, 16, generator=g) for _ in range(2)])


def one_step(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    losses = model.loss(multicrop(), None)
    assert set(losses) == {'loss_base', 'loss_aux'}
    sum(losses.values()).backward()
    grad = model.student.backbone.patch_embed.projection.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    return model


@pytest.mark.parametrize('name', [n for n in HEADS if n != 'ResNetHead-basic'])
def test_head_trains_inside_dino_hssl(name, tiny_dino):
    cfg = dict(HEADS[name], depth=2) if name != 'ConcatHeads' else HEADS[name]
    model = one_step(tiny_dino(auxiliary=cfg))  # grids 8x8 (globals) and 4x4 (locals)
    head = model.student.aux_heads['aux']
    assert model.student.projectors['aux'].mlp[0].in_features == head.out_channels
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    # the EMA teacher update copies the student's buffers: their shapes must not depend on
    # the grid the head saw last (the student's last grid is 4x4, the teacher's 8x8)
    model.teacher.update_parameters(model.student)


# Tab. I / III / IV / Fig. 5 ablations, plus the main DINO + HSSL recipe (Tab. I's ConvNeXt row)
ABLATIONS = sorted(glob.glob(osp.join(REPO, 'configs', 'hssl', 'ablations', '*.py'))) + [
    osp.join(REPO, 'configs', 'hssl', 'dino_vits16_convnext_100e_in1k.py')]


def test_the_ablation_set_is_complete():
    names = {osp.basename(p)[:-3] for p in ABLATIONS}
    assert names >= {f'dino_vits16_{h}_100e_in1k' for h in (
        'vit', 'swin', 'poolformer', 'resnet', 'resmlp', 'convnext', 'concat-convnext-resmlp',
        'convnext-d1', 'convnext-d2', 'convnext-d3', 'convnext-first-shortcut')}


@pytest.mark.parametrize('path', ABLATIONS, ids=lambda p: osp.basename(p)[:-3])
def test_ablation_config_builds_and_runs_at_reduced_size(path, tiny_vit):
    cfg = Config.fromfile(path)
    base = Config.fromfile(osp.join(REPO, 'configs', 'dino', 'dino_vits16_100e_in1k.py'))
    aux = cfg.model.network.pop('auxiliary')
    assert cfg.model == base.model  # the configs differ from the baseline only in the head
    cfg.model.network.auxiliary = aux
    cfg.model.network.backbone = tiny_vit(drop_path_rate=0.1)
    cfg.model.network.projector.update(out_channels=64, hidden_channels=32, bottleneck_channels=16)
    cfg.model.loss.out_channels = 64
    one_step(cfg.model.to_dict())


# --- a head from the user's own package ----------------------------------------------------
def test_custom_head_package_trains_one_iteration_with_the_runner(tmp_path, data_root, monkeypatch):
    from hssl.apis import build_runner
    example = osp.join(REPO, 'examples', 'custom_head')
    monkeypatch.syspath_prepend(example)
    user = Config.fromfile(osp.join(example, 'dino_vits16_dwmixer_100e_in1k.py'))  # custom_imports: my_heads
    aux = user.model.network.auxiliary.to_dict()
    assert aux == dict(type='DWMixerHead', depth=3, first_shortcut=False, kernel_size=5,
                       mlp_ratio=2.0)  # _delete_ replaced the base's ConvNeXtHead dict
    assert MODELS.get('DWMixerHead') is not None

    cfg = Config.fromfile(osp.join(DATA, 'tiny_digits_config.py'))
    cfg.model.network.auxiliary = dict(aux, depth=2)
    cfg.work_dir = str(tmp_path)
    # two steps: the official warm-up trains the first with lr 0
    cfg.merge_from_dict({'train_dataloader.dataset.indices': 16, 'train_cfg.max_epochs': 1,
                         'default_hooks.checkpoint.interval': 100})
    cfg.experiment_name = f'custom_head_{id(cfg)}'
    runner = build_runner(cfg)
    head = runner.model.student.aux_heads['aux']
    assert type(head).__name__ == 'DWMixerHead'
    before = {k: v.clone() for k, v in head.state_dict().items()}
    runner.train()
    assert runner.iter == 2
    after = runner.model.student.aux_heads['aux'].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the head learnt
