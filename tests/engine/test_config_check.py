"""Config validation (hssl/engine/config_check.py), checkpoint and feature files checked
before unpickling, persistent_workers without workers."""
import glob
import io
import os.path as osp
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config

from hssl.engine.config_check import ConfigError, check_config, config_variables
from hssl.engine.runner import HSSLRunner
from hssl.evaluation import load_features
from hssl.reliability.checkpoint_files import CheckpointError, check_checkpoint_file, safe_load
from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')


def test_every_shipped_config_passes():
    configs = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
    assert len(configs) > 50
    for path in configs:
        check_config(Config.fromfile(path))  # no false alarm on a variable or mmengine key


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(f'_base_ = {TINY!r}\n' + text)
    return str(path)


def test_a_variable_the_config_uses_passes_an_unused_key_does_not(tmp_path):
    used = write(tmp_path, 'used.py', 'my_lr = 0.1\noptim_wrapper = dict(optimizer=dict(lr=my_lr))\n')
    assert 'my_lr' in config_variables(used) and 'max_epochs' in config_variables(used)
    check_config(Config.fromfile(used))  # max_epochs (used by the tiny config) passes too
    unused = write(tmp_path, 'unused.py', 'my_lr = 0.1\n')
    with pytest.raises(ConfigError, match='config unused.py has no option "my_lr".*start its name '
                       'with "_"'):
        check_config(Config.fromfile(unused))
    check_config(Config.fromfile(write(tmp_path, 'own.py', '_my_lr = 0.1\n')))  # the opt-in


def test_an_option_set_on_the_command_line_for_a_variable_is_refused(tmp_path):
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({'train_dataloder.batch_size': 8})
    with pytest.raises(ConfigError, match='Did you mean "train_dataloader"'):
        check_config(cfg)


def test_an_unregistered_type_names_the_closest(tmp_path):
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict({'custom_hooks.0.type': 'EMATeacherHok'})
    with pytest.raises(ConfigError, match=r'custom_hooks\[0\]: type "EMATeacherHok" is not '
                       r'registered .*Did you mean "EMATeacherHook"\?'):
        check_config(cfg)


def test_persistent_workers_is_turned_off_without_workers(data_root, monkeypatch):
    import hssl.engine.runner as runner_module
    logged = []
    monkeypatch.setattr(runner_module, 'print_log', lambda msg, **kw: logged.append(msg))
    cfg = Config.fromfile(TINY).train_dataloader
    cfg.update(num_workers=0, persistent_workers=True)
    loader = HSSLRunner.build_dataloader(cfg, seed=0)
    assert loader.persistent_workers is False and loader.num_workers == 0
    assert logged == ['num_workers=0: persistent_workers=True has no workers to keep; set to False']
    assert len(next(iter(loader))['inputs']) == 4  # it loads: 2 global + 2 local views


def test_checkpoint_files_are_checked_before_unpickling(tmp_path):
    legacy = tmp_path / 'legacy.pth'
    torch.save({'w': torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    check_checkpoint_file(legacy)
    assert torch.equal(safe_load(legacy)['w'], torch.ones(2))
    np.savez(tmp_path / 'arrays.npz', a=np.zeros(2))
    (tmp_path / 'empty.pth').write_bytes(b'')
    buffer = io.BytesIO()
    torch.save({'w': torch.zeros(1000)}, buffer)
    (tmp_path / 'truncated.pth').write_bytes(buffer.getvalue()[:1500])
    cases = {'arrays.npz': 'a zip archive but not a PyTorch checkpoint (no data.pkl in it)',
             'empty.pth': 'an empty file, not a checkpoint',
             'truncated.pth': 'not a complete PyTorch checkpoint (its zip archive is truncated',
             '.': 'a directory, not a checkpoint file'}
    for name, reason in cases.items():
        with pytest.raises(CheckpointError) as info:
            safe_load(tmp_path / name)
        assert str(info.value).startswith(f'{tmp_path / name}: {reason}')
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        safe_load(tmp_path / 'nope.pth')


def test_a_damaged_pickle_inside_a_checkpoint_gives_no_unsafe_advice(tmp_path):
    path = tmp_path / 'damaged.pth'
    with zipfile.ZipFile(path, 'w') as archive:  # torch's layout, with a pickle that is garbage
        archive.writestr('archive/data.pkl', b'\x80\x02garbage')
        archive.writestr('archive/byteorder', 'little')
        archive.writestr('archive/version', '3\n')
    with pytest.raises(CheckpointError) as info:
        safe_load(path)
    assert str(info.value).startswith(f'{path}: not a readable PyTorch checkpoint (its ')
    assert 'weights_only' not in str(info.value)


def test_a_truncated_features_file_is_named(tmp_path):
    path = tmp_path / 'feats.npz'
    np.savez(path, train_features=np.zeros((50, 8), np.float32), train_labels=np.zeros(50),
             test_features=np.zeros((5, 8), np.float32), test_labels=np.zeros(5))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match='is not an .npz archive|damaged or truncated'):
        load_features(str(path))


def test_mmengine_loads_local_checkpoints_through_the_check(tmp_path):
    """Runner.resume and init_cfg=dict(type='Pretrained') use mmengine's loader."""
    import hssl.engine  # noqa: F401  (registers the checked local loader)
    from mmengine.runner.checkpoint import _load_checkpoint
    bad = tmp_path / 'pretrained.pth'
    bad.write_bytes(np.random.default_rng(0).bytes(512))
    with pytest.raises(CheckpointError, match='pretrained.pth: not a PyTorch checkpoint'):
        _load_checkpoint(str(bad), map_location='cpu')
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}}, good)
    assert torch.equal(_load_checkpoint(str(good), map_location='cpu')['state_dict']['w'],
                       torch.ones(2))
