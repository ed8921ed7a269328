"""Distillation configs trained the way users train them: ``tools/train.py`` -> mmengine's Runner.

Every distillation config shipped under ``configs/rdimkd/`` (COCO and Cityscapes included) and
every zoo pair of ``tests/helpers/zoo_pairs.py`` trains for one iteration (the YOLOX pair two,
across its mode switch) with the config's own top-level keys (``data_preprocessor``,
``custom_hooks``, ``default_hooks``, schedules, dataset wrappers) and only what a user without
the data, the teacher weights or internet changes on the command line: the data (tiny
synthetic sets), the input size, the teacher checkpoint (random weights), the student's
pretrained init (off), light loaders, no validation.

The pairs marked ``inspected`` train the config that ``tools/inspect_pair.py
--write-config`` writes for them, as written: the path a new user takes.

``tools/train.py`` and ``tools/inspect_pair.py`` run in this process (``runpy``, their ``main``
with the command line below), which saves the interpreter start and imports of a subprocess per
run; the command of each run is printed on failure to repeat it in a shell. Network access fails
the run: nothing may be downloaded.
"""
import ast
import contextlib
import gc
import io
import math
import os
import re
import runpy
import shlex
import socket
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.utils import ManagerMixin

from helpers.models import initialised_model
from helpers.paths import REPO_ROOT
from helpers.training import DET_SIZE, SEG_SIZE, cli_value, runner_options
from helpers.zoo_pairs import ZOO_PAIRS, Point, ZooPair, distill_config, find, markdown_table

SHIPPED = sorted(p for p in (REPO_ROOT / 'configs' / 'rdimkd').rglob('*.py')
                 if '_base_' not in p.parts)


# ----------------------------------------------------------------------------- running
def test_the_lists():
    names = {p.relative_to(REPO_ROOT / 'configs' / 'rdimkd').as_posix() for p in SHIPPED}
    assert {'cityscapes', 'coco'} <= {n.split('/')[0] for n in names}, names
    assert len({p.id for p in ZOO_PAIRS}) == len(ZOO_PAIRS) >= 16
    assert sum(p.task == 'segmentation' for p in ZOO_PAIRS) >= 5
    assert len(markdown_table().splitlines()) == 2 + len(ZOO_PAIRS)
    page = REPO_ROOT / 'docs/user_guides/distill_your_pair.md'
    assert markdown_table() in page.read_text(), 'the tested-pairs table in the docs drifted'


# One intra-op thread: the runs are many tiny steps.
pytestmark = pytest.mark.usefixtures('one_torch_thread')


def test_downloads_fail_the_run(tmp_path, monkeypatch):
    """The guard of every run below: a pretrained init left on would try to download."""
    from mmengine.runner import CheckpointLoader
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))  # no cached copy
    with _restored_mmengine_state(), _no_network(), \
            pytest.raises(RuntimeError, match=r'Network access \(download.openmmlab.com\)'):
        CheckpointLoader.load_checkpoint('open-mmlab://resnet50_v1c')


@pytest.fixture(scope='module')
def teacher_checkpoint(tmp_path_factory):
    """``config -> checkpoint path``: one randomly initialised teacher per config (its
    ``init_weights``, no pretrained init), saved as ``dict(state_dict=...)`` and shared by the
    module's tests."""
    root = tmp_path_factory.mktemp('random_teachers')
    cache: Dict[str, Path] = {}

    def get(config: str) -> Path:
        if config not in cache:
            path = root / f'{len(cache)}_{Path(config.split("::")[-1]).stem}.pth'
            with _restored_mmengine_state(), _cwd(REPO_ROOT):
                model = initialised_model(config)
                torch.save(dict(state_dict=model.state_dict()), path)
                del model
            cache[config] = path
        return cache[config]

    yield get
    for path in cache.values():
        path.unlink(missing_ok=True)  # up to hundreds of MB each


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _manager_classes(cls=ManagerMixin) -> List[type]:
    classes = [cls]
    for sub in cls.__subclasses__():
        classes += _manager_classes(sub)
    return classes


@contextlib.contextmanager
def _restored_mmengine_state() -> Iterator[None]:
    """mmengine's global instances (default scope, logger, message hub, visualizer) as
    before: a Runner makes its own current, which would leak into later tests."""
    saved = {cls: cls._instance_dict.copy() for cls in _manager_classes()
             if '_instance_dict' in vars(cls)}
    try:
        yield
    finally:
        for cls in _manager_classes():
            if '_instance_dict' not in vars(cls):
                continue
            for name, instance in cls._instance_dict.items():
                if name not in saved.get(cls, {}):
                    for handler in getattr(instance, 'handlers', []):
                        handler.close()
            cls._instance_dict = saved.get(cls, type(cls._instance_dict)())


@contextlib.contextmanager
def _unformatted_config_dumps() -> Iterator[None]:
    """The Runner logs and saves its config 3-4 times per run, each formatted by yapf (about
    1 s on 2 cores): only check that the text parses, do not format it."""
    from mmengine.config import config as config_module

    def parse_only(text: str, **kwargs) -> Tuple[str, bool]:
        ast.parse(text)
        return text, False

    format_code = config_module.FormatCode
    config_module.FormatCode = parse_only
    try:
        yield
    finally:
        config_module.FormatCode = format_code


@contextlib.contextmanager
def _no_network() -> Iterator[None]:

    def refuse(*args, **kwargs):
        target = next((a for a in args if isinstance(a, (str, tuple))), '')
        raise RuntimeError(f'Network access ({target}) during a test run: something tries to '
                           'download (a pretrained init_cfg left on?).')

    saved = socket.getaddrinfo, socket.socket.connect
    socket.getaddrinfo = socket.socket.connect = refuse
    try:
        yield
    finally:
        socket.getaddrinfo, socket.socket.connect = saved


def run_here(argv: List[str]) -> str:
    """``python ARGV`` (a tool under tools/), run in this process from the repo root; returns
    what it printed."""
    saved_argv, saved_path = sys.argv, list(sys.path)
    saved_rank = os.environ.get('LOCAL_RANK')
    sys.argv, printed = argv, io.StringIO()
    try:
        with _restored_mmengine_state(), _cwd(REPO_ROOT), _no_network(), \
                _unformatted_config_dumps(), contextlib.redirect_stdout(printed):
            runpy.run_path(str(REPO_ROOT / argv[0]), run_name='__main__')
    except BaseException as error:
        raise AssertionError(f'{printed.getvalue()[-3000:]}\n{type(error).__name__}: {error}'
                             f'\nRepeat with:\npython {shlex.join(argv)}') from error
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_rank is None:
            os.environ.pop('LOCAL_RANK', None)
        else:
            os.environ['LOCAL_RANK'] = saved_rank
        gc.collect()  # the run's models
    return printed.getvalue()


def train(config, work_dir: Path, options: List[str]) -> str:
    """``python tools/train.py CONFIG --work-dir WORK_DIR --cfg-options OPTIONS``, run in this
    process from the repo root; returns the run's log."""
    run_here(['tools/train.py', str(config), '--work-dir', str(work_dir), '--cfg-options',
              *options])
    logs = sorted(work_dir.glob('*/*.log'))
    assert logs, f'no log under {work_dir}'
    return logs[-1].read_text()


# ------------------------------------------------------------------------------ checks
ITERATION = re.compile(r'(?:Epoch|Iter)\(train\)\s+(?:\[(\d+)\])?\s*\[\s*(\d+)/(\d+)\]\s+(.*)')


def iteration_lines(log: str) -> List[Tuple[int, str]]:
    """``(epoch or 0, logged values)`` of every logged training iteration."""
    return [(int(m.group(1) or 0), m.group(4)) for m in ITERATION.finditer(log)]


def check_kd_losses(log: str, names: List[str], iterations: int) -> Dict[str, List[float]]:
    lines = iteration_lines(log)
    assert len(lines) == iterations, f'{len(lines)} logged iterations:\n{log[-3000:]}'
    losses: Dict[str, List[float]] = {}
    for _, values in lines:
        for name, value in re.findall(r'(loss_kd_\w+): (\S+)', values):
            losses.setdefault(name, []).append(float(value))
    assert sorted(losses) == sorted(f'loss_kd_{n}' for n in names), lines[-1][1]
    for name, values in losses.items():
        assert len(values) == iterations and all(math.isfinite(v) and v > 0 for v in values), (
            name, values)
    return losses


def check_checkpoint(work_dir: Path, ema: bool) -> None:
    checkpoints = sorted(work_dir.glob('*.pth'))
    assert checkpoints, f'no checkpoint in {work_dir}'
    state = torch.load(checkpoints[-1], map_location='cpu', weights_only=False)
    keys = list(state['state_dict'])
    assert any(k.startswith('student.') for k in keys), keys[:5]
    assert not any('teacher.' in k for k in keys), [k for k in keys if 'teacher.' in k][:5]
    if ema:
        keys = list(state['ema_state_dict'])
        assert any('student.' in k for k in keys), keys[:5]
        assert not any('teacher.' in k for k in keys), [k for k in keys if 'teacher.' in k][:5]


def distill_names(cfg: Config) -> List[str]:
    return [p.get('name', p['teacher']) for p in cfg.model.distill]


# ------------------------------------------------------------------------------- tests
def shipped_id(path: Path) -> str:
    return path.relative_to(REPO_ROOT / 'configs' / 'rdimkd').as_posix()


@pytest.mark.parametrize('path', SHIPPED, ids=shipped_id)
def test_shipped_config_trains_through_the_runner(path, det_root, seg_root, teacher_checkpoint,
                                                  tmp_path):
    with _restored_mmengine_state(), _cwd(REPO_ROOT):
        cfg = Config.fromfile(str(path))
    data_root = seg_root if cfg.default_scope == 'mmseg' else det_root
    options = [f'model.teacher_checkpoint={teacher_checkpoint(cfg.model.teacher)}',
               *runner_options(cfg, data_root)]
    log = train(path.relative_to(REPO_ROOT), tmp_path / 'work', options)
    check_kd_losses(log, distill_names(cfg), iterations=1)


@pytest.mark.parametrize('pair', [p for p in ZOO_PAIRS if not p.inspected], ids=lambda p: p.id)
def test_zoo_pair_trains_through_the_runner(pair: ZooPair, det_root, seg_root,
                                            teacher_checkpoint, tmp_path):
    config = tmp_path / f'rdimkd-r_{pair.id}.py'
    config.write_text(distill_config(pair, str(teacher_checkpoint(pair.teacher))))
    train_and_check(pair, config, det_root, seg_root, tmp_path)


@pytest.mark.parametrize('pair', [p for p in ZOO_PAIRS if p.inspected], ids=lambda p: p.id)
def test_inspected_pair_trains_through_the_runner(pair: ZooPair, det_root, seg_root,
                                                  teacher_checkpoint, tmp_path):
    """The path a new user takes: ``tools/inspect_pair.py TEACHER STUDENT --size S S
    --teacher-checkpoint PATH --write-config CONFIG``, then ``tools/train.py CONFIG`` with only
    the data and the schedule changed (the written probe size, loss, hooks and student init
    are used as written)."""
    config = tmp_path / f'inspected_{pair.id}.py'
    size = pair.size or (SEG_SIZE if pair.scope == 'mmseg' else DET_SIZE)
    printed = run_here([
        'tools/inspect_pair.py', pair.teacher, pair.student, '--size', str(size), str(size),
        '--teacher-checkpoint', str(teacher_checkpoint(pair.teacher)), '--write-config',
        str(config)])
    for note in pair.notes:
        assert note in ' '.join(printed.split()), printed
    with _restored_mmengine_state():
        cfg = Config.fromfile(str(config))
    assert cfg.model.probe_size == (size, size)
    assert [Point(p.name, p.student, p.teacher) for p in cfg.model.distill] == list(
        pair.points), printed
    train_and_check(pair, config, det_root, seg_root, tmp_path, probe=False)


def train_and_check(pair: ZooPair, config: Path, det_root: Path, seg_root: Path, tmp_path: Path,
                    probe: bool = True) -> None:
    """Train ``config`` of ``pair`` through tools/train.py and check its log (and checkpoint).
    ``probe``: set the probe size on the command line (False: the config's)."""
    with _restored_mmengine_state():
        cfg = Config.fromfile(str(config))
    data_root = seg_root if pair.scope == 'mmseg' else det_root
    ema = any(h['type'].split('.')[-1] == 'EMAHook' for h in cfg.get('custom_hooks', []))
    options = runner_options(cfg, data_root, epochs=pair.epochs, hooks=pair.hooks,
                             keep_checkpoint=pair.checkpoint, teacher_eval=pair.teacher_eval,
                             size=pair.size, probe=probe)
    options += [f'{k}={cli_value(v)}' for k, v in pair.options.items()]
    log = train(config, tmp_path / 'work', options)
    check_kd_losses(log, [p.name for p in pair.points], iterations=pair.epochs)
    # What a hook switches (YOLOX's mode) comes after the first epoch's iteration.
    first = ITERATION.search(log)
    for message in pair.switch_messages:
        assert log.find(message) > first.end(), message
    for loss in pair.switch_losses:
        values = [v for _, v in iteration_lines(log)]
        assert f'{loss}:' not in values[0] and f'{loss}:' in values[-1], (loss, values)
    if pair.checkpoint:
        check_checkpoint(tmp_path / 'work', ema)
    for message in pair.messages:
        assert message in log, message


def test_unequal_strides_are_refused_through_the_runner(det_root, teacher_checkpoint, tmp_path):
    """``'neck'`` <-> ``'neck'`` between Faster R-CNN (FPN P2-P6) and RetinaNet (P3-P7): the run
    stops at the build with an error that names the levels of equal stride."""
    pair = find('faster-rcnn-r50_retinanet-r18')._replace(points=(Point('fpn', 'neck', 'neck'), ))
    config = tmp_path / 'rdimkd-r_unequal-strides.py'
    config.write_text(distill_config(pair, str(teacher_checkpoint(pair.teacher))))
    with _restored_mmengine_state():
        options = runner_options(Config.fromfile(str(config)), det_root)
    with pytest.raises(AssertionError, match='strides differ') as error:
        train(config, tmp_path / 'work', options)
    assert re.search(r"student='neck\[0:4\]', teacher='neck\[1:5\]'", str(error.value)), error.value
