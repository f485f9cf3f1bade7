"""The design ablations of Sec. 5: supervision manner (Tab. XIV), head structure
(Tab. XV), shared projection (Tab. XVI), parallel connection (Tab. XVII)."""
import glob
import os.path as osp

import pytest
import torch

from hssl.models.auxiliary import ConvNeXtHead, ResMLPHead
from hssl.models.networks.heterogeneous import SUPERVISION
from tests import REPO

CONVNEXT = dict(type='ConvNeXtHead', depth=2)


def views(size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ([torch.randn(2, 3, size, size, generator=g) for _ in range(2)]
            + [torch.randn(2, 3, size // 2, size // 2, generator=g) for _ in range(2)])


# --- Tab. XIV: supervision manner --------------------------------------------------------------
def test_supervision_sets_the_pairs(build, tiny_dino):
    pairs = {s: build(tiny_dino(auxiliary=CONVNEXT, supervision=s)).student.pairs for s in SUPERVISION}
    assert pairs['heterogeneous'] == [('aux', ('base', 'aux'), 1.0)]  # A->A + A->B
    assert pairs['homogeneous'] == [('aux', ('aux',), 1.0), ('base', ('base',), 1.0)]
    assert pairs['head_only'] == [('aux', ('aux',), 1.0)]
    with pytest.raises(ValueError, match='supervision must be one of'):
        build(tiny_dino(auxiliary=CONVNEXT, supervision='A->B'))


def manual_dino_terms(model, x):
    """{branch: DINO loss of the student branch against the teacher target of its pair}."""
    with torch.no_grad():
        teacher = model.teacher.module(x[:2])
    student = model.student(x)
    terms = {}
    for target, preds, weight in model.student.pairs:
        crit = model.criteria[target]
        probs = crit.teacher_probs(teacher[target].cls)
        for b in preds:
            terms[b] = weight * crit(probs, student[b].cls, 2, len(x))
    return terms


@pytest.mark.parametrize('supervision', ['homogeneous', 'head_only'])
def test_supervision_losses_are_each_branch_against_its_own_target(supervision, build, tiny_dino):
    model = build(tiny_dino(auxiliary=CONVNEXT, supervision=supervision))
    with torch.no_grad():  # teacher != student, so targets and predictions differ
        for p in model.student.parameters():
            p.add_(0.05 * torch.randn_like(p))
    expected = {f'loss_{b}': v for b, v in manual_dino_terms(model, views()).items()}
    for crit in model.criteria.values():  # manual_dino_terms did not move the centres
        assert crit.center.abs().sum() == 0
    losses = model.loss(views(), None)
    assert set(losses) == set(expected)
    for key in expected:
        assert torch.allclose(losses[key], expected[key], atol=1e-6), key
    sum(losses.values()).backward()
    # the base model learns in both: through its own loss, or only through the head on it
    assert model.student.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    assert ('base' in model.student.projectors) == (supervision == 'homogeneous')


# --- Tab. XV: head structure -------------------------------------------------------------------
def test_structure_keeps_the_token_mixer_or_the_mlp():
    torch.manual_seed(0)
    both = ConvNeXtHead(16, depth=1, first_shortcut=True).eval()
    mixer = ConvNeXtHead(16, depth=1, first_shortcut=True, structure='token_mixer').eval()
    mlp = ConvNeXtHead(16, depth=1, first_shortcut=True, structure='mlp').eval()
    for head in (mixer, mlp):
        head.load_state_dict(both.state_dict(), strict=False)
    b = both.blocks[0]
    x = torch.randn(2, 16, 5, 5)
    with torch.no_grad():
        mixed = b.conv_dw(x)
        normed = b.norm(mixed.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        assert torch.allclose(mixer.blocks(x), normed + x, atol=1e-5)  # norm(dwconv(x)) + x
        per_token = b.mlp(b.norm(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        assert torch.allclose(mlp.blocks(x), per_token + x, atol=1e-5)  # mlp(norm(x)) + x
    count = {n: sum(p.numel() for p in h.parameters()) for n, h in
             (('both', both), ('mixer', mixer), ('mlp', mlp))}
    dw = 16 * 49 + 16
    assert count['both'] - count['mlp'] == dw and count['mixer'] == count['both'] - (16 * 64 * 2 + 64 + 16)
    with pytest.raises(ValueError, match='structure must be one of'):
        ConvNeXtHead(16, structure='mixer')
    with pytest.raises(ValueError, match="ResMLPHead: structure='mlp' is not implemented"):
        ResMLPHead(16, grid_size=4, structure='mlp')


# --- Tab. XVI: shared projection ---------------------------------------------------------------
def test_shared_projector_is_one_module_and_the_teacher_averages_it_once(build, tiny_dino):
    separate = build(tiny_dino(auxiliary=CONVNEXT))
    shared = build(tiny_dino(auxiliary=CONVNEXT, share_projector=True))
    net = shared.student
    assert net.projectors['aux'] is net.projectors['base']
    assert shared.teacher.module.projectors['aux'] is shared.teacher.module.projectors['base']
    proj = sum(p.numel() for p in net.projectors['base'].parameters())
    n = lambda m: sum(p.numel() for p in m.student.parameters())  # noqa: E731
    assert n(separate) - n(shared) == proj
    losses = shared.loss(views(), None)
    sum(losses.values()).backward()
    w = net.projectors['base'].mlp[0].weight
    with torch.no_grad():
        w.add_(1.0)  # a student step
    before = shared.teacher.module.projectors['base'].mlp[0].weight.clone()
    shared.teacher.momentum = 0.25
    shared.teacher.update_parameters(net)
    after = shared.teacher.module.projectors['base'].mlp[0].weight
    assert torch.allclose(after, 0.75 * before + 0.25 * w, atol=1e-6)  # one EMA step, not two
    with pytest.raises(ValueError, match='share_projector needs the head "aux" to keep the base'):
        build(tiny_dino(auxiliary=dict(type='WidthAdaptedHead', width=16, head=CONVNEXT),
                        share_projector=True))


# --- Tab. XVII: parallel connection ------------------------------------------------------------
PARALLEL = dict(type='ParallelNetwork', model_name='convnext_tiny', depths=(1, 1, 1, 1),
                dims=(8, 16, 24, 32))


def test_parallel_network_takes_the_images_not_the_grid(build, tiny_dino):
    model = build(tiny_dino(auxiliary=PARALLEL))
    net = model.student
    x = views(64)
    out = net(x)
    parallel = net.aux_heads['aux']
    assert parallel.out_channels == 32 and net.projectors['aux'].mlp[0].in_features == 32
    with torch.no_grad():
        ref = net.projectors['aux'](torch.cat([parallel(torch.cat(x[:2])).cls,
                                               parallel(torch.cat(x[2:])).cls]))
    assert torch.allclose(out['aux'].cls, ref, atol=1e-5)
    # nothing connects it to the base model: only the base loss reaches the ViT
    losses = model.loss(x, None)
    losses['loss_aux'].backward()
    assert model.student.backbone.patch_embed.projection.weight.grad is None
    assert next(parallel.parameters()).grad.abs().sum() > 0


# --- the configs ----------------------------------------------------------------------------
DEPTH1 = 'hssl/ablations/dino_vits16_convnext-d1_100e_in1k.py'
DESIGN = {  # config -> (its baseline, what the experiment changes)
    'dino_vits16_convnext-d1-homogeneous_100e_in1k': (DEPTH1, ('network', 'supervision', 'homogeneous')),
    'dino_vits16_convnext-d1-head-only_100e_in1k': (DEPTH1, ('network', 'supervision', 'head_only')),
    'dino_vits16_convnext-d1-token-mixer_100e_in1k': (DEPTH1, ('auxiliary', 'structure', 'token_mixer')),
    'dino_vits16_convnext-d1-mlp_100e_in1k': (DEPTH1, ('auxiliary', 'structure', 'mlp')),
    'dino_vits16_convnext-d1-shared-projector_100e_in1k': (DEPTH1, ('network', 'share_projector', True)),
}


def test_the_design_set_is_complete():
    names = {osp.basename(p)[:-3] for p in glob.glob(osp.join(REPO, 'configs', 'hssl', 'design', '*.py'))}
    assert names == set(DESIGN) | {'dino_vits16_parallel-convnext-tiny_100e_in1k'}


@pytest.mark.parametrize('name', DESIGN)
def test_design_config_differs_from_its_baseline_by_one_option(name, load):
    base_name, (where, key, value) = DESIGN[name]
    cfg, base = load(f'hssl/design/{name}.py'), load(base_name)
    part = cfg.model.network if where == 'network' else cfg.model.network.auxiliary
    assert part.pop(key) == value
    assert cfg.model == base.model
    assert cfg.optim_wrapper == base.optim_wrapper and cfg.train_dataloader == base.train_dataloader
    assert cfg.param_scheduler == base.param_scheduler and cfg.custom_hooks == base.custom_hooks


def test_parallel_config_is_the_baseline_plus_a_convnext_tiny(load):
    cfg, base = load('hssl/design/dino_vits16_parallel-convnext-tiny_100e_in1k.py'), load('dino/dino_vits16_100e_in1k.py')
    assert cfg.model.network.pop('auxiliary') == dict(type='ParallelNetwork', model_name='convnext_tiny')
    assert cfg.model == base.model and cfg.train_dataloader == base.train_dataloader
    from hssl.registry import MODELS
    net = MODELS.build(load('hssl/design/dino_vits16_parallel-convnext-tiny_100e_in1k.py').model.network)
    assert 27.8e6 < sum(p.numel() for p in net.aux_heads['aux'].parameters()) < 27.9e6  # ConvNeXt-T
    assert net.projectors['aux'].mlp[0].in_features == 768


@pytest.mark.parametrize('name', list(DESIGN) + ['dino_vits16_parallel-convnext-tiny_100e_in1k'])
def test_design_config_trains_an_iteration_at_reduced_size(name, load, tiny_vit, build):
    cfg = load(f'hssl/design/{name}.py')
    net = cfg.model.network
    net.backbone = tiny_vit(drop_path_rate=0.1)
    if net.auxiliary.type == 'ParallelNetwork':
        net.auxiliary.update({k: v for k, v in PARALLEL.items() if k != 'type'})
    net.projector.update(out_channels=64, hidden_channels=32, bottleneck_channels=16)
    cfg.model.loss.out_channels = 64
    model = build(cfg.model.to_dict())
    losses = model.loss(views(64), None)
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    assert model.student.backbone.patch_embed.projection.weight.grad.abs().sum() > 0


@pytest.mark.slow  # three models built and counted: minutes on a loaded 2-core CPU
def test_overhead_benchmark_counts_the_parallel_network(capsys, monkeypatch):
    import importlib.util
    import sys
    bench = osp.join(REPO, 'tools', 'benchmarks')
    monkeypatch.syspath_prepend(bench)
    spec = importlib.util.spec_from_file_location('overhead_tool', osp.join(bench, 'overhead.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(['--method', 'dino', '--arch', 'tiny', '--global-size', '64', '--local-size', '32',
               '--local-crops', '1', '--batch', '2', '--out-channels', '256', '--flops-only',
               '--parallel', 'convnext_tiny'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    serial = float(line.split(' G, x')[1].split(' ')[0])
    parallel = float(line.split('; parallel ')[1].split(', x')[1])
    # a whole ConvNeXt-T (4.5 GFLOPs at 224 px) beside a ViT-Ti/16 (1.3): far above 3 serial blocks
    assert 1.0 < serial < 1.5 < parallel
    assert 'bench_setup' in sys.modules
