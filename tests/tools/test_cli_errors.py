"""A user's mistakes at the command line: one line on stderr, a non-zero exit, no traceback.

Every case of docs/reliability.md's "Mistakes" table is run here as a user
runs it (``python tools/X.py ARGS`` in a working directory): the cases go
through tests/tools/cli_driver.py, which runs them one after the other in one
interpreter (so torch, mmengine and hssl are imported once), with each its
own argv, working directory, environment and stderr. dist_train.sh and
--debug run as real processes.
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests import DATA, REPO

TINY = osp.join(DATA, 'tiny_digits_config.py')
TOOLS = osp.join(REPO, 'tools')


def env_for_tools(**extra):
    """The environment of a user's shell, with this checkout's hssl first."""
    path = os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')])
    return dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS='1', **extra)


def stderr_lines(text: str):
    """Non-empty lines of stderr; a progress bar redrawn with \\r counts for nothing."""
    return [line for line in re.split(r'[\r\n]', text) if line.strip() and '%|' not in line]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The bad inputs: random bytes, an npz of objects, a work dir whose only
    checkpoint is truncated, a k-NN folder with a file that is no image."""
    root = tmp_path_factory.mktemp('mistakes')
    rng = np.random.default_rng(0)
    (root / 'random.pth').write_bytes(rng.bytes(4096))
    (root / 'random.npz').write_bytes(rng.bytes(4096))
    np.savez(root / 'objects.npz', train_features=np.array([{'a': 1}], dtype=object),
             train_labels=np.zeros(1), test_features=np.zeros((1, 2)), test_labels=np.zeros(1))
    os.makedirs(root / 'broken_run')
    torch.save({'meta': {}, 'state_dict': {'w': torch.zeros(1000)}}, root / 'broken_run' / 'epoch_1.pth')
    with open(root / 'broken_run' / 'epoch_1.pth', 'r+b') as f:
        f.truncate(2000)
    for split in ('train', 'val'):
        for cls in ('a', 'b'):
            os.makedirs(root / 'knn' / split / cls)
            for i in range(4):
                Image.new('RGB', (32, 32), (40 * i, 0, 0)).save(root / 'knn' / split / cls / f'{i}.png')
    (root / 'knn' / 'val' / 'b' / 'broken.png').write_bytes(b'not an image')
    os.makedirs(root / 'cwd')
    return root


def case(tool, *args, cwd=None, **env):
    return dict(tool=osp.join(TOOLS, tool), args=[str(a) for a in args], cwd=cwd, env=env)


MISTAKES = [
    'train-missing-config',
    'train-misspelt-option',
    'train-bad-choice',
    'resume-no-work-dir',
    'resume-empty-work-dir',
    'resume-only-corrupt',
    'resume-random-bytes',
    'top-level-typo',
    'cfg-options-variable',
    'network-option',
    'dataset-option',
    'loop-option',
    'hook-option',
    'transform-option',
    'head-option',
    'knn-missing-config',
    'knn-missing-checkpoint',
    'knn-random-checkpoint',
    'knn-random-features',
    'knn-object-features',
    'knn-k-zero',
    'knn-unreadable-image',
    'search-fraction',
    'search-epochs',
    'search-head-typo',
    'convert-random',
    'publish-random',
    'head-cost-depth',
    'plot-missing-log',
    'knn-speed-k',
]


def mistakes(root):
    """{name: (case, exit status, words of the one line)} for each mistake."""
    cwd = str(root / 'cwd')
    set_ = ['--cfg-options']
    knn = ['--random-init', '--backend', 'torch', '--no-cache', '--k', '1',
           '--train-dir', root / 'knn' / 'train', '--val-dir', root / 'knn' / 'val']
    table = [
        # train.py: paths and options
        (case('train.py', 'configs/nope.py', cwd=cwd), 2,
         ['train.py: error: argument config: configs/nope.py does not exist (looked in', cwd]),
        (case('train.py', TINY, '--resme', cwd=cwd), 2,
         ['unrecognized arguments: --resme. Did you mean --resume?']),
        (case('train.py', TINY, '--launcher', 'pytorc', cwd=cwd), 2, ["Did you mean 'pytorch'?"]),
        # resume never starts over
        (case('train.py', TINY, '--work-dir', 'work_dirs/tiyn', '--resume', cwd=cwd), 1,
         ['--resume: nothing to resume: the work dir work_dirs/tiyn does not exist',
          'leave out --resume']),
        (case('train.py', TINY, '--work-dir', '.', '--resume', cwd=cwd), 1,
         ['--resume: nothing to resume: found no last_checkpoint, epoch_*.pth or iter_*.pth in .']),
        (case('train.py', TINY, '--work-dir', root / 'broken_run', '--resume', 'auto', cwd=cwd), 1,
         ['--resume: no checkpoint in', 'can be resumed from', 'epoch_1.pth (not a complete '
          'PyTorch checkpoint (its zip archive is truncated or damaged))']),
        (case('train.py', TINY, '--resume', root / 'random.pth', cwd=cwd), 1,
         ['random.pth: not a PyTorch checkpoint']),
        # config keys and options
        (case('train.py', TINY, *set_, 'train_dataloder.batch_size=8', cwd=cwd), 1,
         ['config tiny_digits_config.py has no option "train_dataloder". Did you mean '
          '"train_dataloader"?', 'start its name with "_"']),
        (case('train.py', TINY, *set_, 'max_epochs=1', cwd=cwd), 1,
         ['--cfg-options max_epochs=1: "max_epochs" is a variable of the config files, used when '
          'they were read; setting it now changes nothing']),
        (case('train.py', TINY, *set_, 'model.network.auxilary.depth=1', cwd=cwd), 1,
         ['model.network: HeterogeneousNetwork has no option "auxilary". Did you mean "auxiliary"?']),
        (case('train.py', TINY, *set_, 'train_dataloader.dataset.with_lable=True', cwd=cwd), 1,
         ['train_dataloader.dataset: EmbeddedDigits has no option "with_lable". Did you mean '
          '"with_label"?']),
        (case('train.py', TINY, *set_, 'train_cfg.max_epoch=1', cwd=cwd), 1,
         ['train_cfg: EpochBasedTrainLoop has no option "max_epoch". Did you mean "max_epochs"? '
          'Its options: dynamic_intervals, max_epochs, val_begin, val_interval']),
        (case('train.py', TINY, *set_, 'default_hooks.nonfinite.max_consecutiv=3', cwd=cwd), 1,
         ['default_hooks.nonfinite: NonFiniteLossHook has no option "max_consecutiv". Did you '
          'mean "max_consecutive"?']),
        (case('train.py', TINY, *set_, 'train_dataloader.dataset.pipeline.1.local_crops_numbr=2',
              cwd=cwd), 1,
         ['train_dataloader.dataset.pipeline[1]: DINOMultiCrop has no option "local_crops_numbr". '
          'Did you mean "local_crops_number"?']),
        (case('train.py', TINY, *set_, 'model.network.auxiliary.frist_shortcut=True', cwd=cwd), 1,
         ['network.auxiliary (aux): ConvNeXtHead has no option "frist_shortcut". Did you mean '
          '"first_shortcut"? Its options: depth, drop_path_rate, first_shortcut, in_channels, '
          'init_cfg, kernel_size']),
        # knn_eval.py
        (case('knn_eval.py', 'nope.py', 'nope.pth', cwd=cwd), 2,
         ['knn_eval.py: error: argument config: nope.py does not exist']),
        (case('knn_eval.py', TINY, 'nope.pth', cwd=cwd), 2,
         ['knn_eval.py: error: argument checkpoint: nope.pth does not exist']),
        (case('knn_eval.py', TINY, root / 'random.pth', '--train-dir', root / 'knn' / 'train',
              '--val-dir', root / 'knn' / 'val', cwd=cwd), 1,
         ['random.pth: not a PyTorch checkpoint']),
        (case('knn_eval.py', '--features', root / 'random.npz', cwd=cwd), 1,
         ['random.npz is not an .npz archive of arrays']),
        (case('knn_eval.py', '--features', root / 'objects.npz', cwd=cwd), 1,
         ["objects.npz: array 'train_features' holds Python objects, not numbers (refused"]),
        (case('knn_eval.py', '--features', root / 'objects.npz', '--k', '0', cwd=cwd), 2,
         ['argument --k: 0 is not an integer >= 1']),
        (case('knn_eval.py', TINY, *knn, '--num-workers', '2', cwd=cwd), 1,
         ['knn_eval.py: error: ', 'broken.png']),
        # search_heads.py
        (case('search_heads.py', TINY, '--data-fraction', '1.5', cwd=cwd), 2,
         ['argument --data-fraction: 1.5 is not a fraction in (0, 1]']),
        (case('search_heads.py', TINY, '--epochs', '0', cwd=cwd), 2,
         ['argument --epochs: 0 is not an integer >= 1']),
        (case('search_heads.py', TINY, '--heads', 'convnxt', '--work-dir', 'w', cwd=cwd), 1,
         ['search_heads.py: error: search: unknown head "convnxt". Did you mean "convnext"?']),
        # the checkpoint tools
        (case('model_converters/convert.py', root / 'random.pth', 'out.pth', '--to', 'timm',
              cwd=cwd), 1, ['convert.py: error: ', 'random.pth: not a PyTorch checkpoint']),
        (case('model_converters/publish.py', root / 'random.pth', 'out.pth', cwd=cwd), 1,
         ['publish.py: error: ', 'random.pth: not a PyTorch checkpoint']),
        # analysis and benchmark tools: the same parser
        (case('analysis/head_cost.py', '--depths', '0', cwd=cwd), 2,
         ['head_cost.py: error: argument --depths: 0 is not an integer >= 1']),
        (case('analysis/plot_discrepancy.py', 'nope', cwd=cwd), 1,
         ['plot_discrepancy.py: error: nope: no such work dir or log file']),
        (case('benchmarks/knn_speed.py', '--k', '-3', cwd=cwd), 2,
         ['knn_speed.py: error: argument --k: -3 is not an integer >= 1']),
    ]
    return dict(zip(MISTAKES, table))


@pytest.fixture(scope='module')
def outcomes(files, tmp_path_factory):
    """Every mistake, run once (one interpreter), with its expectation."""
    table = mistakes(files)
    work = tmp_path_factory.mktemp('driver')
    with open(work / 'cases.json', 'w') as f:
        json.dump([table[name][0] for name in MISTAKES], f)
    proc = subprocess.run([sys.executable, osp.join(osp.dirname(__file__), 'cli_driver.py'),
                           str(work / 'cases.json'), str(work / 'results.json')],
                          env=env_for_tools(HSSL_DATA_ROOT=str(files / 'data')),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(work / 'results.json') as f:
        results = json.load(f)
    return {name: (table[name], result) for name, result in zip(MISTAKES, results)}


@pytest.mark.parametrize('name', MISTAKES)
def test_a_mistake_is_one_line_on_stderr_and_a_nonzero_exit(outcomes, name):
    (case_, status, words), result = outcomes[name]
    lines = stderr_lines(result['stderr'])
    command = ' '.join([osp.relpath(case_['tool'], REPO)] + case_['args'])
    assert 'Traceback' not in result['stderr'], (command, result['stderr'])
    assert len(lines) == 1, (command, result['stderr'])
    assert result['status'] == status, (command, result)
    for word in words:
        assert word in lines[0], (command, word, lines[0])
    for advice in ('weights_only', 'allow_pickle'):  # never an invitation to load unsafely
        assert advice not in lines[0], (command, lines[0])


def test_every_case_has_a_name(files):
    assert len(mistakes(files)) == len(set(MISTAKES)) == 30


def test_debug_flag_and_environment_show_the_traceback(files):
    """The same mistake in real processes: one line, then the traceback with --debug or HSSL_DEBUG=1."""
    cmd = [sys.executable, osp.join(TOOLS, 'model_converters', 'convert.py'),
           str(files / 'random.pth'), str(files / 'out.pth'), '--to', 'timm']
    plain = subprocess.run(cmd, env=env_for_tools(), capture_output=True, text=True, timeout=300)
    assert plain.returncode == 1
    assert plain.stderr.splitlines() == [
        f'convert.py: error: {files / "random.pth"}: not a PyTorch checkpoint (neither the zip '
        'archive that torch.save writes nor its legacy format)']
    for extra, env in (['--debug'], {}), ([], {'HSSL_DEBUG': '1'}):
        shown = subprocess.run(cmd + extra, env=env_for_tools(**env), capture_output=True,
                               text=True, timeout=300)
        assert shown.returncode == 1
        assert 'Traceback (most recent call last)' in shown.stderr
        assert shown.stderr.rstrip().splitlines()[-1].startswith('hssl.reliability.checkpoint_files.CheckpointError: ')


def fake_python(tmp_path):
    """A $PYTHON that runs tools/train.py for real, and only prints torchrun's command line."""
    script = tmp_path / 'python'
    script.write_text('#!/usr/bin/env bash\n'
                      'if [ "$1" = "-m" ]; then echo "TORCHRUN $*"; exit 0; fi\n'
                      f'exec {sys.executable} "$@"\n')
    script.chmod(0o755)
    return str(script)


def test_dist_train_checks_once_before_the_processes_and_keeps_the_users_directory(tmp_path):
    here = tmp_path / 'project'
    os.makedirs(here)
    (here / 'mine.py').write_text(f'_base_ = {TINY!r}\n')
    (here / 'typo.py').write_text(f'_base_ = {TINY!r}\ntrain_dataloder = dict(batch_size=8)\n')
    script = osp.join(TOOLS, 'dist_train.sh')
    env = env_for_tools(PYTHON=fake_python(tmp_path))

    def dist_train(*args):
        return subprocess.run(['bash', script, *args], cwd=here, env=env, capture_output=True,
                              text=True, timeout=300)

    missing = dist_train('configs/nope.py', '2')
    assert missing.returncode == 2 and 'TORCHRUN' not in missing.stdout
    assert missing.stderr.splitlines() == [
        f'train.py: error: argument config: configs/nope.py does not exist (looked in {here}) '
        '(see train.py --help)']
    typo = dist_train('typo.py', '2')  # a relative path, from where the user stands
    assert typo.returncode == 1 and 'TORCHRUN' not in typo.stdout
    assert len(typo.stderr.splitlines()) == 1
    assert 'config typo.py has no option "train_dataloder"' in typo.stderr
    (here / 'head.py').write_text(f'_base_ = {TINY!r}\n'
                                  'model = dict(network=dict(auxiliary=dict(frist_shortcut=True)))\n')
    head = dist_train('head.py', '2')  # found when the model is built, once
    assert head.returncode == 1 and 'TORCHRUN' not in head.stdout
    assert head.stderr.splitlines() == [
        'train.py: error: network.auxiliary (aux): ConvNeXtHead has no option "frist_shortcut". '
        'Did you mean "first_shortcut"? Its options: depth, drop_path_rate, first_shortcut, '
        'in_channels, init_cfg, kernel_size, layer_scale_init_value, mlp_ratio, structure']
    assert dist_train('mine.py', 'two').stderr.strip() == \
        "dist_train.sh: error: NGPUS must be an integer >= 1, got 'two'"
    started = dist_train('mine.py', '2', '--work-dir', 'work_dirs/mine')
    assert started.returncode == 0, started.stderr
    assert started.stderr == ''
    assert f'--nproc_per_node=2 --master_port=29500 {TOOLS}/train.py mine.py --launcher pytorch ' \
           '--work-dir work_dirs/mine' in started.stdout
