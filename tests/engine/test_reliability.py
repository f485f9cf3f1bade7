"""Faults, bad input and exact resume (docs/reliability.md), on tiny models and the embedded digits."""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from PIL import Image

import hssl.reliability.bad_samples as bad_samples_module
from hssl.apis import build_model, build_runner
from hssl.datasets import ImageFolder
from hssl.utils.model_wrapper import unwrap
from hssl.reliability import resume_checks
from hssl.reliability.checkpoint_files import safe_load
from hssl.reliability.resume_checks import find_resumable_checkpoint
from tests import DATA, REPO

RESUME_CFG = osp.join(DATA, 'tiny_resume_config.py')
IBOT_CFG = osp.join(DATA, 'tiny_ibot_digits_config.py')


def make_runner(config, work_dir, **options):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=3, deterministic=True)
    cfg.merge_from_dict(options)
    cfg.experiment_name = f'test_{os.getpid()}_{id(cfg)}'
    return build_runner(cfg)


def train_script(work_dir, *extra, env=None, config=RESUME_CFG):
    """tools/train.py in a fresh process, as a user (or a scheduler) starts it."""
    env = dict(os.environ, PYTHONPATH=REPO,  # this checkout's hssl and tests
               OMP_NUM_THREADS=str(torch.get_num_threads()),
               **(env or {}))
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', str(work_dir),
           *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def training_state(path):
    """Weights, EMA teacher, centres, optimizer and schedulers of a checkpoint."""
    ckpt = safe_load(path)
    return ckpt['meta']['iter'], ckpt['state_dict'], ckpt['optimizer'], ckpt['param_schedulers']


def assert_same(a, b, where=''):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}[{i}]')
    else:
        assert a == b, where


# 1. exact resume ---------------------------------------------------------------------------

def test_sigkill_inside_an_epoch_then_resume_auto_reaches_identical_weights(tmp_path, data_root):
    # 2 epochs of 4 iterations, a checkpoint every 3: killed before iteration 6 (in
    # epoch 2), the run resumes from iter_3.pth, inside epoch 1.
    killed = train_script(tmp_path / 'killed', env=dict(HSSL_KILL_AT_ITER='5',
                                                        HSSL_DATA_ROOT=str(data_root)))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert sorted(f for f in os.listdir(tmp_path / 'killed') if f.endswith('.pth')) == ['iter_3.pth']

    resumed = make_runner(RESUME_CFG, tmp_path / 'killed', resume=True)  # --resume auto
    resumed.train()
    reference = make_runner(RESUME_CFG, tmp_path / 'reference')
    reference.train()
    assert resumed.iter == reference.iter == 8
    got = training_state(tmp_path / 'killed' / 'iter_8.pth')
    want = training_state(tmp_path / 'reference' / 'iter_8.pth')
    assert got[0] == want[0] == 8
    assert any(k.startswith('teacher.') for k in got[1]) and 'criteria.aux.center' in got[1]
    assert_same(got[1:], want[1:], 'checkpoint')


@pytest.mark.slow  # three tiny iBOT runs: about 30 s on an idle 2-core CPU
def test_ibot_resumed_inside_an_epoch_draws_the_same_masks_and_weights(tmp_path, data_root):
    class Crash(Hook):  # an exception at iteration 6: the run stops, its iter_3.pth stays
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 5:
                raise KeyboardInterrupt

    masks = {}

    class RecordMasks(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            masks.setdefault(runner.iter, np.stack([s.patch_mask[0] for s in data_batch['data_samples']]))

    opts = {'default_hooks.checkpoint': dict(by_epoch=False, interval=3)}
    crashed = make_runner(IBOT_CFG, tmp_path / 'run', **opts)
    crashed.register_hook(Crash())
    crashed.register_hook(RecordMasks())
    with pytest.raises(KeyboardInterrupt):
        crashed.train()
    first = dict(masks)
    masks.clear()
    resumed = make_runner(IBOT_CFG, tmp_path / 'run', resume=True, **opts)
    resumed.register_hook(RecordMasks())
    resumed.train()
    assert sorted(masks) == [3, 4, 5, 6, 7]  # continued at iteration 4 of 8, inside epoch 1
    for i in (3, 4):
        np.testing.assert_array_equal(masks[i], first[i])
    reference = make_runner(IBOT_CFG, tmp_path / 'reference', **opts)
    reference.train()
    assert_same(training_state(tmp_path / 'run' / 'iter_8.pth')[1:],
                training_state(tmp_path / 'reference' / 'iter_8.pth')[1:])


# Written by hssl at commit b6cf6bd, before the crash-safety code moved to hssl/reliability/:
# tests/data/tiny_digits_config.py with a 16-dim one-layer ViT, a depth-1 ConvNeXt head, 32-d
# projections and 16 images (2 iterations per epoch), seed 3, deterministic, a checkpoint every
# iteration; the file is the one saved after iteration 1 (meta['cfg'] holds that config).
# That run's loss at iteration 2 (message_hub of its iter_2.pth):
OLD_CHECKPOINT = osp.join(DATA, 'dino_hssl_tiny_iter_1.pth')
OLD_RUN_LOSS_AT_ITER_2 = 7.175831317901611


def test_a_checkpoint_of_the_previous_layout_resumes_inside_its_epoch(tmp_path, data_root):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    shutil.copy(OLD_CHECKPOINT, work_dir / 'iter_1.pth')
    old = safe_load(work_dir / 'iter_1.pth')
    cfg = Config.fromstring(old['meta']['cfg'], '.py')  # the old config text builds as it is
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'test_{os.getpid()}_old_checkpoint'
    cfg.resume = True  # --resume auto
    runner = build_runner(cfg)
    trained = []

    class RecordIterations(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            trained.append(runner.iter)

    runner.register_hook(RecordIterations())
    runner.train()
    assert trained == [1] and runner.iter == 2  # resumed after iteration 1: did not start over
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert losses[0] == old['message_hub']['log_scalars']['train/loss'].data[0][0]  # restored
    assert losses[1] == pytest.approx(OLD_RUN_LOSS_AT_ITER_2, rel=1e-4)  # what the old run drew
    # Neither the old checkpoint nor one written now names a global of hssl's code (the
    # allow-list holds none): moving hssl's modules cannot break a checkpoint.
    for path in (OLD_CHECKPOINT, work_dir / 'iter_2.pth'):
        assert not [g for g in torch.serialization.get_unsafe_globals_in_checkpoint(path)
                    if g.startswith('hssl')]


# 2. atomic checkpoints -----------------------------------------------------------------------

def test_crash_while_saving_leaves_no_truncated_checkpoint(tmp_path, data_root, monkeypatch):
    runner = make_runner(RESUME_CFG, tmp_path, **{'train_cfg.max_epochs': 1})
    import mmengine.runner.runner as mm_runner
    real_save = mm_runner.save_checkpoint

    def save_then_die(checkpoint, filename, **kwargs):
        if runner.iter + 1 == 3:
            real_save(checkpoint, filename, **kwargs)
            return
        with open(filename, 'wb') as f:  # half a file, then the process "dies"
            f.write(b'PK\x03\x04 truncated')
        raise SystemExit('killed while saving')

    monkeypatch.setattr(mm_runner, 'save_checkpoint', save_then_die)
    runner.register_hook(_SaveEveryIter(), priority='VERY_LOW')
    with pytest.raises(SystemExit):
        runner.train()
    assert sorted(os.listdir(tmp_path)) == sorted(
        [d for d in os.listdir(tmp_path) if osp.isdir(tmp_path / d)] +
        ['iter_3.pth', 'last_checkpoint', 'tiny_resume_config.py'])  # no temporary, no iter_4.pth
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().endswith('iter_3.pth')
    assert safe_load(tmp_path / 'iter_3.pth')['meta']['iter'] == 3


class _SaveEveryIter(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == 4:
            runner.save_checkpoint(runner.work_dir, 'iter_4.pth', by_epoch=False)


def test_resume_auto_skips_a_checkpoint_that_does_not_load_and_takes_the_previous(tmp_path, data_root,
                                                                                  monkeypatch):
    make_runner(RESUME_CFG, tmp_path).train()  # iter_3, iter_6, iter_8
    with open(tmp_path / 'iter_8.pth', 'r+b') as f:  # a truncated latest checkpoint
        f.truncate(1000)
    logged = _collect_logs(monkeypatch)
    bad_path = str(tmp_path / 'iter_8.pth')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_6.pth')
    assert logged == [f'--resume auto: skipped {bad_path} (not a complete PyTorch checkpoint (its '
                      'zip archive is truncated or damaged)); resuming from the older '
                      f'{tmp_path / "iter_6.pth"}']  # one line, and the one resumed from

    resumed = make_runner(RESUME_CFG, tmp_path, resume=True)
    starts = []
    resumed.register_hook(_RecordStart(starts))
    resumed.train()
    assert starts == [6] and resumed.iter == 8
    assert safe_load(bad_path)['meta']['iter'] == 8  # rewritten, whole


def _collect_logs(monkeypatch):
    """The messages resume_checks logs."""
    messages = []
    monkeypatch.setattr(resume_checks, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


class _RecordStart(Hook):
    def __init__(self, starts):
        self.starts = starts

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if not self.starts:
            self.starts.append(runner.iter)


# 3. non-finite loss --------------------------------------------------------------------------

class _NaNInputs(Hook):
    """NaN in the first view's pixels at the given iterations: every loss term is NaN,
    and the teacher's NaN output would move the centre."""

    def __init__(self, iters):
        self.iters = iters
        self.states = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = unwrap(runner.model)
        self.states[runner.iter] = {k: v.clone() for k, v in model.state_dict().items()}
        if runner.iter in self.iters:
            data_batch['inputs'][0] = data_batch['inputs'][0].float() * float('nan')


def test_nan_loss_step_is_skipped_and_counted(tmp_path, data_root):
    runner = make_runner(RESUME_CFG, tmp_path, **{'train_cfg.max_epochs': 1})
    inject = _NaNInputs({1})
    runner.register_hook(inject)
    runner.train()
    before, after = inject.states[1], inject.states[2]
    for key in before:  # no optimizer step, no EMA update, the centre put back
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(inject.states[2]['student.backbone.cls_token'],
                           inject.states[3]['student.backbone.cls_token'])  # good steps go on
    assert runner.message_hub.get_scalar('train/skipped_steps').current() == 1
    final = unwrap(runner.model).state_dict()
    assert all(torch.isfinite(v).all() for v in final.values() if v.is_floating_point())


def test_consecutive_nan_losses_stop_the_run_naming_iteration_and_terms(tmp_path, data_root):
    runner = make_runner(RESUME_CFG, tmp_path,
                         **{'default_hooks.nonfinite.max_consecutive': 2})
    runner.register_hook(_NaNInputs({4, 5}))
    with pytest.raises(RuntimeError) as err:
        runner.train()
    message = str(err.value)
    assert '2 consecutive iterations with a non-finite loss, the last at iteration 6 ' \
           '(epoch 2, batch 2)' in message
    assert 'loss=nan' in message and 'loss_base=nan' in message and 'loss_aux=nan' in message
    assert 'iter_3.pth' in message  # the last good checkpoint, whose weights are untouched
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == ['iter_3.pth']


# 4. bad data ---------------------------------------------------------------------------------

def _bad_folder(root, good=6):
    folder = root / 'images' / 'a'
    folder.mkdir(parents=True)
    for i in range(good):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(folder / f'{i}.png')
    good_bytes = (folder / '0.png').read_bytes()
    (folder / 'x_truncated.png').write_bytes(good_bytes[:len(good_bytes) // 2])
    (folder / 'x_text.jpg').write_text('not an image')
    (folder / 'x_empty.png').write_bytes(b'')
    return root / 'images'


def test_unreadable_images_are_skipped_with_path_and_reason_and_counted(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(bad_samples_module, 'print_log', lambda msg, **kw: warnings.append(msg))
    dataset = ImageFolder(str(_bad_folder(tmp_path)), with_label=False,
                          pipeline=[dict(type='LoadImage')])
    assert len(dataset) == 9
    loaded = [dataset[i]['img_path'] for i in range(len(dataset))]
    assert all(not osp.basename(p).startswith('x_') for p in loaded)  # replaced by good ones
    assert dataset.num_bad_samples == 3
    assert len(warnings) == 3
    for name in ('x_truncated.png', 'x_text.jpg', 'x_empty.png'):
        assert sum(name in w for w in warnings) == 1
    assert any('empty file' in w for w in warnings)
    dataset[8]  # a known bad file is not read or reported again
    assert len(warnings) == 3

    # the count is shared by the DataLoader's worker processes
    fresh = ImageFolder(str(tmp_path / 'images'), with_label=False, pipeline=[dict(type='LoadImage')])
    loader = torch.utils.data.DataLoader(fresh, batch_size=3, num_workers=2,
                                         collate_fn=lambda batch: [b['img_path'] for b in batch])
    assert sum(len(b) for b in loader) == 9
    assert fresh.num_bad_samples == 3


def test_too_many_unreadable_images_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bad_samples_module, 'print_log', lambda msg, **kw: None)
    dataset = ImageFolder(str(_bad_folder(tmp_path)), with_label=False, max_bad_samples=2,
                          pipeline=[dict(type='LoadImage')])
    with pytest.raises(RuntimeError, match=r'3 unreadable images, more than max_bad_samples=2; '
                                           r"the last: cannot load image '.*x_"):
        for i in range(len(dataset)):
            dataset[i]
    strict = ImageFolder(str(tmp_path / 'images'), with_label=False, max_bad_samples=0,
                         pipeline=[dict(type='LoadImage')])
    with pytest.raises(OSError, match='x_empty.png'):
        strict[6]


def test_training_goes_on_over_bad_images_and_logs_the_count(tmp_path, data_root):
    digits = osp.join(str(data_root), 'digits', 'train')
    images = tmp_path / 'images'
    shutil.copytree(osp.join(digits, '0'), images / '0')
    for name in sorted(os.listdir(images / '0'))[:2]:
        (images / '0' / name).write_bytes(b'garbage')
    runner = make_runner(RESUME_CFG, tmp_path / 'work', **{
        'train_cfg.max_epochs': 1,
        'train_dataloader.dataset': dict(
            _delete_=True, type='ImageFolder', data_root=str(images), indices=32,
            pipeline=Config.fromfile(RESUME_CFG).train_dataloader.dataset.pipeline)})
    runner.train()
    assert runner.iter == 4
    assert runner.message_hub.get_scalar('train/bad_samples').current() >= 1


# 5. bad config -------------------------------------------------------------------------------

@pytest.mark.parametrize('option, value, message', [
    ('model.network.auxiliary.frist_shortcut', True,
     'ConvNeXtHead has no option "frist_shortcut". Did you mean "first_shortcut"?'),
    ('model.network.auxiliary.depth', 0, 'depth must be an integer >= 1, got 0'),
    ('model.network.backbone.arch.num_layers', 0, 'ViT: arch.num_layers must be an integer >= 1, got 0'),
    ('model.network.backbone.arch.num_heads', 3, 'ViT: arch.num_heads=3 does not divide arch.embed_dims=32'),
    ('model.network.backbone.patch_size', 5, 'ViT: patch_size=5 does not divide img_size=32'),
])
def test_impossible_model_option_fails_when_built_naming_the_key(option, value, message, data_root):
    cfg = Config.fromfile(RESUME_CFG)
    cfg.merge_from_dict({option: value})
    with pytest.raises((TypeError, ValueError)) as err:
        build_model(cfg)
    assert message in str(err.value)


@pytest.mark.parametrize('transform, message', [
    (dict(type='BlockMaskGenerator', patch_size=4, pred_ratio=1.2, pred_ratio_var=0.0),
     'pred_ratio 1.2 +- 0.0 must stay within [0, 1]'),
    (dict(type='DINOMultiCrop', local_crops_number=-1),
     'local_crops_number must be an integer >= 0, got -1'),
    (dict(type='MultiCrop', groups=[dict(num=2, pipeline=[], crops=3)]),
     'groups[0] must be dict(num=..., pipeline=[...])'),
])
def test_impossible_data_option_fails_when_built_naming_the_key(transform, message):
    from hssl.registry import TRANSFORMS
    with pytest.raises(ValueError) as err:
        TRANSFORMS.build(transform)
    assert message in str(err.value)


# 6. untrusted checkpoints --------------------------------------------------------------------

class _RunsCode:
    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_resume_auto_refuses_a_checkpoint_that_would_run_code(tmp_path, monkeypatch):
    payload = _RunsCode()
    payload.marker = str(tmp_path / 'code-ran')
    torch.save({'meta': {}, 'state_dict': payload}, tmp_path / 'iter_9.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_9.pth'))
    skipped = []
    assert find_resumable_checkpoint(str(tmp_path), skipped=skipped) is None
    assert skipped[0][0] == str(tmp_path / 'iter_9.pth')
    assert 'Refusing to load' in skipped[0][1] and 'posix.mkdir' in skipped[0][1]
    assert not osp.exists(payload.marker)  # nothing ran


# 7. distributed faults -----------------------------------------------------------------------

@pytest.mark.slow  # two torchrun launches of 2 processes: about 40 s on a 2-core CPU
def test_two_process_run_with_a_killed_rank_fails_fast_and_resumes(tmp_path, data_root):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29700 + os.getpid() % 1000),
               PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               HSSL_DATA_ROOT=str(data_root))
    config = osp.join(DATA, 'tiny_resume_dist_config.py')
    cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2', '--work-dir', str(tmp_path)]
    # 2 iterations per epoch, 2 epochs, a checkpoint every iteration; rank 1 dies before
    # iteration 4: rank 0 must not wait for it forever.
    killed = subprocess.run(cmd, env=dict(env, HSSL_KILL_AT_ITER='3', HSSL_KILL_RANK='1'),
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode != 0
    assert 'iter_3.pth' in os.listdir(tmp_path) and 'iter_4.pth' not in os.listdir(tmp_path)
    resumed = subprocess.run(cmd + ['--resume', 'auto'], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert safe_load(tmp_path / 'iter_4.pth')['meta']['iter'] == 4
    ranks = [torch.load(tmp_path / f'final_rank{r}.pth') for r in (0, 1)]
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
