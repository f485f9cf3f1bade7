"""Quiet by default: one line per phase on the console, the details in the log file."""
import glob
import io
import logging
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from hssl.apis import build_model, build_runner
from hssl.utils.console import DetailFilter, quiet_console, quiet_init_info
from tests import DATA


def _record(msg):
    return logging.LogRecord('x', logging.INFO, __file__, 1, msg, None, None)


def test_detail_filter_drops_the_dumps_and_keeps_progress():
    f = DetailFilter()
    assert not f.filter(_record('Config:\nauto_scale_lr = dict()'))
    assert not f.filter(_record('paramwise_options -- student.backbone.ln1.bias:weight_decay=0.0'))
    assert not f.filter(_record('student.x.weight is skipped since its requires_grad=False'))
    assert f.filter(_record('Epoch(train) [1][5/22]  lr: 1e-4  loss: 14.26'))
    assert f.filter(_record('Saving checkpoint at 1 epochs'))
    record = _record('anything')
    record.detail = True
    assert not f.filter(record)


def test_quiet_console_filters_the_console_not_the_file(tmp_path):
    logger = logging.getLogger('hssl-test-quiet')
    console, log_file = io.StringIO(), tmp_path / 'x.log'
    logger.handlers = [logging.StreamHandler(console), logging.FileHandler(log_file)]
    logger.setLevel(logging.INFO)
    quiet_console(logger)
    quiet_console(logger)  # idempotent
    assert [len(h.filters) for h in logger.handlers] == [1, 0]
    logger.info('Config:\nmodel = dict()')
    logger.info('Epoch(train) [1][1/4]')
    for h in logger.handlers:
        h.flush()
    assert console.getvalue() == 'Epoch(train) [1][1/4]\n'
    assert log_file.read_text() == 'Config:\nmodel = dict()\nEpoch(train) [1][1/4]\n'


def _runner_config(work_dir):
    cfg = Config.fromfile(osp.join(DATA, 'tiny_digits_config.py'))
    cfg.work_dir = str(work_dir)
    # mmengine names its logger by experiment: two runners built within one second
    # would share the first one's logger (and log file) without a name of their own
    cfg.experiment_name = f'quiet_console_{osp.basename(str(work_dir))}'
    return cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU fallback to gloo')
@pytest.mark.parametrize('verbose', [False, True])
def test_runner_logs_one_line_and_dumps_the_rest_to_the_file(tmp_path, data_root, capsys, verbose):
    runner = build_runner(_runner_config(tmp_path), verbose=verbose)  # logs env, config, hooks
    out = capsys.readouterr().out
    log = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    # the file has everything, the device said as it is
    for text in ('System environment:', 'Config:', 'Hooks will be executed', 'Processes: 1',
                 'Device: cpu', "dist_cfg: {'backend': 'gloo'"):
        assert text in log
    assert 'GPU number' not in log
    # the config logged and dumped says gloo: no CUDA here
    assert runner.cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert "backend='nccl'" not in open(osp.join(str(tmp_path), 'tiny_digits_config.py')).read()
    summary = [line for line in out.splitlines() if 'environment and config in' in line]
    assert len(summary) == 1 and '1 process(es) on cpu' in summary[0]
    if verbose:
        assert 'System environment:' in out and 'Config:' in out
    else:
        assert 'System environment:' not in out and 'Config:' not in out
        assert 'Hooks will be executed' not in out
        assert len(out.splitlines()) <= 3


def test_random_init_reports_no_parameter_lines_unless_verbose(capsys):
    cfg = Config.fromfile(osp.join(DATA, 'tiny_digits_config.py'))
    MMLogger.get_instance('hssl-test-init', log_level='INFO')  # the current, console-only logger
    with quiet_init_info(verbose=False):
        assert MMLogger.get_current_instance().level == logging.WARNING
    build_model(cfg)
    assert 'Initialized by' not in capsys.readouterr().out
    build_model(cfg, verbose=True)
    out = capsys.readouterr().out
    assert out.count('student.backbone.cls_token') == 1 and 'init_weights' in out
