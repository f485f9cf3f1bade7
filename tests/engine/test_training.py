"""End to end: training with the Runner, resume, 2-process gloo, bad input."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from hssl.apis import build_model, build_runner
from hssl.reliability.checkpoint_files import safe_load
from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')


def make_runner(work_dir, **options):
    cfg = Config.fromfile(TINY)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    cfg.experiment_name = f'test_{os.getpid()}_{id(cfg)}'
    return build_runner(cfg)


def test_train_saves_teacher_centre_and_resumes_from_saved_iteration(tmp_path, data_root):
    runner = make_runner(tmp_path, **{'train_cfg.max_epochs': 1})
    runner.train()
    ckpt = safe_load(osp.join(tmp_path, 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 4 and ckpt['meta']['epoch'] == 1
    state = ckpt['state_dict']
    assert any(k.startswith('teacher.module.aux_heads.aux.') for k in state)
    assert state['criteria.aux.center'].abs().sum() > 0  # the centre was learnt and saved
    student = state['student.backbone.layers.0.attn.qkv.weight']
    teacher = state['teacher.module.backbone.layers.0.attn.qkv.weight']
    assert not torch.equal(student, teacher)  # the EMA teacher lags the student

    resumed = make_runner(tmp_path, resume=True)  # --resume auto: the latest checkpoint
    seen = []

    class Record(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if seen:
                return
            seen.append(runner.iter)
            model_state = runner.model.state_dict()
            for key in ('teacher.module.backbone.layers.0.attn.qkv.weight', 'criteria.aux.center'):
                assert torch.equal(model_state[key], state[key]), key

    resumed.register_hook(Record(), priority='LOWEST')
    resumed.train()
    assert seen == [4]  # continued at the saved iteration, not from scratch
    assert resumed.iter == 8 and resumed.epoch == 2
    assert osp.exists(osp.join(tmp_path, 'epoch_2.pth'))


def test_checkpoint_of_another_model_is_refused_with_the_mismatch(tmp_path, data_root):
    runner = make_runner(tmp_path, **{'train_cfg.max_epochs': 1})
    runner.train()
    cfg = Config.fromfile(TINY)
    cfg.model.network.backbone.arch.embed_dims = 48  # another model
    with pytest.raises(RuntimeError) as err:
        build_model(cfg, osp.join(tmp_path, 'epoch_1.pth'))
    message = str(err.value)
    assert 'does not match the model' in message and 'epoch_1.pth' in message
    assert 'student.backbone.cls_token: checkpoint (1, 1, 32) vs model (1, 1, 48)' in message
    bad = make_runner(tmp_path / 'other', load_from=osp.join(tmp_path, 'epoch_1.pth'),
                      **{'model.network.auxiliary.depth': 3})
    with pytest.raises(RuntimeError, match='keys of the model are missing'):
        bad.train()


def test_unknown_config_key_names_the_key(tmp_path, data_root):
    with pytest.raises(TypeError) as err:  # fails when the model is built, before training
        make_runner(tmp_path, **{'model.network.auxiliary.frist_shortcut': True})
    assert str(err.value).startswith('network.auxiliary (aux): ConvNeXtHead has no option '
                                     '"frist_shortcut". Did you mean "first_shortcut"?')


def test_two_process_gloo_run_ends_with_identical_weights(tmp_path, data_root):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29500 + os.getpid() % 1000),
               PYTHONPATH=REPO,
               OMP_NUM_THREADS='1')
    config = osp.join(DATA, 'tiny_digits_dist_config.py')
    cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
           '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [torch.load(osp.join(tmp_path, f'rank{r}.pth')) for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    # 32 images / (2 ranks x 8) = 2 iterations per epoch: each rank saw its own half
    ckpt = safe_load(osp.join(tmp_path, 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 2
