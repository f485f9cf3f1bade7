"""mmengine checkpoints load with ``weights_only=True``; anything else is refused."""
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import hssl  # noqa: F401  (calls allow_mmengine_checkpoints())
from hssl.reliability.allow_list import allow_mmengine_checkpoints, mmengine_safe_globals
from hssl.reliability.checkpoint_files import safe_load


class _TinyModel(BaseModel):
    """A Linear classifier in the mmengine model interface."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.fc(inputs)
        if mode == 'loss':
            return dict(loss=nn.functional.cross_entropy(logits, labels))
        return logits


class _ToyDataset(Dataset):
    """Eight fixed random 4-d points with binary labels."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=generator), labels=torch.tensor(index % 2))


def _runner(work_dir, max_epochs, name, resume=False, hooks=None):
    return Runner(
        model=_TinyModel(),
        work_dir=str(work_dir),
        experiment_name=name,  # distinct names: separate MessageHub instances
        train_dataloader=dict(dataset=_ToyDataset(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-2)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=hooks,
        randomness=dict(seed=0),
        resume=resume,
    )


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Runners open 'mmengine' default scopes; drop them after each test."""
    before = set(DefaultScope._instance_dict)
    yield
    for name in set(DefaultScope._instance_dict) - before:
        DefaultScope._instance_dict.pop(name)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A work_dir with epoch_1.pth, saved by a real one-epoch Runner.train()."""
    work_dir = tmp_path_factory.mktemp('ckpt_run')
    _runner(work_dir, max_epochs=1, name='hssl_ckpt_test_train').train()
    DefaultScope._instance_dict.pop('hssl_ckpt_test_train', None)
    assert (work_dir / 'epoch_1.pth').is_file()
    return work_dir


def test_no_weights_only_override_in_environment():
    for var in ('TORCH_FORCE_WEIGHTS_ONLY_LOAD', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'):
        assert not os.environ.get(var), f'{var} must not be set'


def test_fresh_process_needs_and_gets_the_allow_list(trained):
    """In a new interpreter: plain torch.load refuses the checkpoint, and loads it
    after ``import hssl``; the refused globals are exactly the expected ones (this
    tells us when mmengine starts saving something new)."""
    script = textwrap.dedent(f"""
        import json, pickle, torch
        path = {str(trained / 'epoch_1.pth')!r}
        print('UNSAFE', json.dumps(sorted(
            torch.serialization.get_unsafe_globals_in_checkpoint(path))))
        try:
            torch.load(path, weights_only=True)
        except pickle.UnpicklingError:
            print('REFUSED_BEFORE')
        import hssl
        ckpt = torch.load(path, weights_only=True)
        print('LOADED', ckpt['meta']['epoch'])
    """)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'REFUSED_BEFORE' in result.stdout
    assert 'LOADED 1' in result.stdout
    unsafe = next(line for line in result.stdout.splitlines() if line.startswith('UNSAFE '))
    multiarray = np.ndarray.__reduce__(np.zeros(1))[0].__module__  # numpy(._)core.multiarray
    assert set(json.loads(unsafe[len('UNSAFE '):])) == {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype', f'{multiarray}._reconstruct', f'{multiarray}.scalar',
    }


def test_real_checkpoint_loads_weights_only(trained):
    path = trained / 'epoch_1.pth'
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer', 'param_schedulers'}
    assert ckpt['meta']['epoch'] == 1 and ckpt['meta']['iter'] == 2
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert np.isfinite(buffer.mean()) and buffer.statistics('current') == buffer.current()
    loaded = safe_load(path)
    assert torch.equal(loaded['state_dict']['fc.weight'], ckpt['state_dict']['fc.weight'])


def test_allow_list_is_idempotent_and_never_the_real_getattr():
    allow_mmengine_checkpoints()
    before = torch.serialization.get_safe_globals()
    allow_mmengine_checkpoints()
    assert len(torch.serialization.get_safe_globals()) == len(before)
    import builtins
    assert builtins.getattr not in torch.serialization.get_safe_globals()
    assert all(entry is not builtins.getattr for entry in mmengine_safe_globals())


def test_resume_continues_from_saved_epoch_with_saved_weights(trained, tmp_path):
    """Runner(resume=True) reloads epoch_1.pth (weights_only default) and trains epoch 2."""
    import shutil
    from mmengine.hooks import Hook

    work_dir = tmp_path / 'resume'
    shutil.copytree(trained, work_dir)
    # last_checkpoint holds the absolute path of the original run; point it here.
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_1.pth'))
    saved = safe_load(work_dir / 'epoch_1.pth')

    class Probe(Hook):
        def __init__(self):
            self.at_start = None
            self.epochs_run, self.iters_run = [], []

        def before_train(self, runner):
            self.at_start = dict(epoch=runner.epoch, iter=runner.iter,
                                 weights={k: v.clone() for k, v in
                                          runner.model.state_dict().items()})

        def before_train_epoch(self, runner):
            self.epochs_run.append(runner.epoch)  # 0-based epoch index

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.iters_run.append(runner.iter)  # 0-based iteration index

    probe = Probe()
    runner = _runner(work_dir, max_epochs=2, name='hssl_ckpt_test_resume', resume=True,
                     hooks=[probe])
    runner.train()
    assert probe.at_start['epoch'] == saved['meta']['epoch'] == 1
    assert probe.at_start['iter'] == saved['meta']['iter'] == 2
    assert probe.at_start['weights'].keys() == saved['state_dict'].keys()
    for key, value in saved['state_dict'].items():
        assert torch.equal(probe.at_start['weights'][key], value), key
    # Only the second epoch ran (index 1), i.e. iterations 2 and 3.
    assert probe.epochs_run == [1] and probe.iters_run == [2, 3]
    assert runner.epoch == 2 and runner.iter == 4
    # The optimizer state came back too (AdamW has taken 2 steps).
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    assert state and all(float(s['step']) >= 2 for s in state.values())
    assert (work_dir / 'epoch_2.pth').is_file()


def test_pretrained_init_cfg_loads(trained):
    """``init_cfg=dict(type='Pretrained')`` goes through mmengine's torch.load too."""
    model = _TinyModel(init_cfg=dict(type='Pretrained', checkpoint=str(trained / 'epoch_1.pth')))
    model.init_weights()
    saved = safe_load(trained / 'epoch_1.pth')['state_dict']
    assert torch.equal(model.fc.weight, saved['fc.weight'])


class _Numpy1Pickler(pickle._Pickler):
    """Pure-Python pickler writing numpy's helpers under numpy 1.x names."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_global(self, obj, name=None):
        if getattr(obj, '__module__', None) == 'numpy._core.multiarray':
            self.write(pickle.GLOBAL + b'numpy.core.multiarray\n' + obj.__name__.encode() + b'\n')
            self.memoize(obj)
            return
        super().save_global(obj, name)


@pytest.mark.skipif(not np.__version__.startswith('2.'), reason='numpy 1.x writes these names')
def test_numpy1_names_and_int32_counts_load(tmp_path):
    """Checkpoints written with numpy 1.x (numpy.core.multiarray) or with int32
    counts (Windows, numpy 1.x) load too."""
    import types
    import zipfile
    buffer = HistoryBuffer()
    buffer.update(1.5)
    buffer.update(2.5)
    buffer._count_history = buffer._count_history.astype(np.int32)
    path = tmp_path / 'numpy1.pth'
    torch.save({'buffer': buffer, 'eta': np.float64(3.0)}, path,
               pickle_module=types.SimpleNamespace(Pickler=_Numpy1Pickler, __name__='np1'))
    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith('data.pkl')))
    assert b'numpy.core.multiarray\n_reconstruct' in data and b'numpy._core' not in data
    loaded = safe_load(path)
    assert loaded['buffer'].mean() == 2.0 and loaded['eta'] == 3.0
    assert loaded['buffer']._count_history.dtype == np.int32


def test_grad_scaler_state_needs_no_extra_globals():
    """AmpOptimWrapper adds ``loss_scaler`` = GradScaler.state_dict(): plain floats/ints."""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters())
    scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model(torch.randn(4, 3)).float().sum()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    state = dict(optimizer.state_dict(), loss_scaler=scaler.state_dict())
    buffer = io.BytesIO()
    torch.save(state, buffer)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        io.BytesIO(buffer.getvalue())) == []


class _Payload:
    """Unpickling this object runs code: it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").write("pwned")',)


def test_malicious_pickle_is_refused_and_does_not_run(tmp_path):
    # The payload is live: plain pickle would run it.
    live_marker = tmp_path / 'live_marker'
    pickle.loads(pickle.dumps(_Payload(live_marker)))
    assert live_marker.exists()

    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Payload(marker)}, path)
    with pytest.raises(RuntimeError) as info:
        safe_load(path)
    message = str(info.value)
    assert str(path) in message
    assert 'builtins.exec' in message  # the offending global
    assert 'could run arbitrary code' in message
    assert not marker.exists()


class _GetattrPayload:
    """Reaches for ``getattr(obj, name)`` beyond HistoryBuffer's statistics."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


@pytest.mark.parametrize('obj,name', [(HistoryBuffer, '__init__'), (np.ndarray, 'tofile'),
                                      (HistoryBuffer, '__dict__')])
def test_getattr_is_restricted(tmp_path, obj, name):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': _GetattrPayload(obj, name)}, path)
    with pytest.raises(RuntimeError, match='getattr') as info:
        safe_load(path)
    assert str(path) in str(info.value)


def test_allowed_getattr_resolves_statistics(tmp_path):
    path = tmp_path / 'stats.pth'
    torch.save({'mean': _GetattrPayload(HistoryBuffer, 'mean')}, path)
    assert safe_load(path)['mean'] is HistoryBuffer.mean


def test_corrupt_file_is_not_reported_as_a_global(tmp_path):
    path = tmp_path / 'broken.pth'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(Exception) as info:
        safe_load(path)
    assert not isinstance(info.value, RuntimeError) or 'global' not in str(info.value)


def test_safe_load_accepts_plain_weights(tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save({'w': torch.arange(3.0)}, Path(path))
    assert torch.equal(safe_load(str(path))['w'], torch.arange(3.0))
