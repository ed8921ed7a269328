"""Safe loading: mmengine checkpoints load, and a crafted checkpoint is refused on every path,
whatever mmengine's loader or the environment says."""
import functools
import http.server
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import mmengine.runner.checkpoint as mmengine_checkpoint
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader

import rdimkd_mm
from rdimkd_mm.utils import CheckpointError, read_checkpoint, read_state_dict
from rdimkd_mm.utils.safe_loading import load_from_safe_local
from helpers.models import DET_DISTILL
from helpers.paths import REPO_ROOT
from helpers.tools import det_data_options, run_cases

DET_STUDENT = 'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py'


class RunsCode:
    """Unpickling it creates ``marker`` (as ``exec`` would run anything)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({str(self.marker)!r}, "w").close()', ))


def crafted(path: Path, raw_pickle: bool = False) -> Path:
    """A checkpoint-like file whose unpickling creates ``<path>.ran`` (a zip written by
    torch.save, or a raw pickle)."""
    content = dict(state_dict={}, meta=dict(iter=1), payload=RunsCode(ran(path)))
    if raw_pickle:
        with open(path, 'wb') as f:
            pickle.dump(content, f)
    else:
        torch.save(content, path)
    return path


def ran(path: Path) -> Path:
    return path.with_name(path.name + '.ran')


def test_message_hub_state_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('safety-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    torch.save(dict(message_hub=hub.state_dict(), meta=dict(seed=0)), tmp_path / 'ckpt.pth')
    loaded = read_checkpoint(str(tmp_path / 'ckpt.pth'))
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 1.5


def test_code_executing_pickle_is_refused(tmp_path):
    evil = crafted(tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(evil, weights_only=True)
    with pytest.raises(CheckpointError, match='Refused to load the teacher checkpoint .*evil.* '
                       'stopped at "Unsupported global: GLOBAL exec"'):
        read_state_dict(str(evil), what='teacher')
    assert not ran(evil).exists()


class RunsShell:
    def __reduce__(self):
        return (os.system, ('true', ))


def test_a_refusal_names_a_global_of_a_blocked_module(tmp_path):
    """torch words a global of a blocked module (os -> posix) differently ("Trying to load
    unsupported GLOBAL posix.system whose module posix is blocked"); the refusal names it in
    the same form."""
    torch.save(dict(state_dict={}, payload=RunsShell()), tmp_path / 'shell.pth')
    with pytest.raises(CheckpointError, match='stopped at "Unsupported global: GLOBAL '
                                              'posix.system"'):
        read_state_dict(str(tmp_path / 'shell.pth'), what='teacher')


class GetattrOnAllowedClass:
    """Pickles as getattr(HistoryBuffer, '__init__'): allowed global, disallowed attribute."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    torch.save(dict(x=GetattrOnAllowedClass()), tmp_path / 'getattr.pth')
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics'):
        torch.load(tmp_path / 'getattr.pth', weights_only=True)


def test_mmengine_reads_local_files_with_the_safe_reader(tmp_path):
    """``import rdimkd_mm`` made the safe reader mmengine's loader of local paths (the
    Runner's load_from and resume, local init_cfg checkpoints)."""
    assert CheckpointLoader._get_checkpoint_loader(str(tmp_path / 'x.pth')) is \
        load_from_safe_local
    evil = crafted(tmp_path / 'evil.pth')
    with pytest.raises(CheckpointError, match=r'Refused .*\(read by mmengine'):
        CheckpointLoader.load_checkpoint(str(evil))
    assert not ran(evil).exists()


@pytest.fixture
def http_server(tmp_path):
    """A local HTTP server for ``tmp_path / 'served'``; yields its base URL. The download cache
    (torch hub's directory) is ``tmp_path / 'hub'`` meanwhile."""
    served = tmp_path / 'served'
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield f'http://127.0.0.1:{server.server_address[1]}'
    torch.hub.set_dir(hub_dir)
    server.shutdown()


def test_downloaded_checkpoints_are_read_safely(tmp_path, http_server):
    """URLs and the zoo names mmengine resolves to URLs (``torchvision://``, ``open-mmlab://``,
    ..., through its ``load_from_http``) are read with the safe reader after the download;
    torch's own download loader would run the payload."""
    served = tmp_path / 'served'
    crafted(served / 'control.pth')
    torch.hub.load_state_dict_from_url(f'{http_server}/control.pth', progress=False)
    assert ran(served / 'control.pth').exists(), 'the attack did not work without rdimkd_mm'

    for i, load in enumerate([CheckpointLoader.load_checkpoint,
                              mmengine_checkpoint.load_from_http]):
        evil = crafted(served / f'evil{i}.pth')
        with pytest.raises(CheckpointError, match=r'Refused to load .*evil'):
            load(f'{http_server}/evil{i}.pth')
        assert not ran(evil).exists()
    torch.save(dict(state_dict=dict(w=torch.ones(2))), served / 'good.pth')
    loaded = CheckpointLoader.load_checkpoint(f'{http_server}/good.pth')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert (tmp_path / 'hub' / 'checkpoints' / 'good.pth').is_file()  # cached as torch does


def test_unchecked_stores_are_refused():
    with pytest.raises(RuntimeError, match='Copy the file to local disk'):
        CheckpointLoader.load_checkpoint('s3://bucket/teacher.pth')


def test_torch_older_than_2_6_is_refused_at_import():
    with pytest.raises(ImportError, match=r"torch >= 2\.6 .* torch 2\.5\.1\+cu121 is installed"
                       r".*pip install 'torch>=2\.6,<2\.14'"):
        rdimkd_mm.check_torch_version('2.5.1+cu121')
    for version in ('2.6.0', '2.13.0+cpu', '3.0.0'):
        rdimkd_mm.check_torch_version(version)
    result = subprocess.run(
        [sys.executable, '-c', "import torch; torch.__version__ = '2.4.0'; import rdimkd_mm"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'ImportError: rdimkd_mm needs torch >= 2.6' in result.stderr


@pytest.mark.parametrize('content, expected', [
    (b'', 'the file is empty'),
    (b'hello\nnot a checkpoint\n', "it is a text file (starting 'hello'), not a checkpoint"),
    ('zip', 'the file is truncated or corrupted, or was not written by torch.save '
     '(RuntimeError: PytorchStreamReader failed reading zip archive'),
    ('last_checkpoint', "it is a text file (starting '{good}'), not a checkpoint; it names "
     "'{good}': give that file instead"),
], ids=['empty', 'text', 'truncated', 'last_checkpoint'])
def test_unreadable_checkpoints_name_the_file_and_the_fix(tmp_path, content, expected):
    torch.save(dict(state_dict={}), tmp_path / 'good.pth')
    if content == 'zip':
        content = (tmp_path / 'good.pth').read_bytes()[:300]
    elif content == 'last_checkpoint':  # the pointer file given instead of the checkpoint
        content = str(tmp_path / 'good.pth').encode()
    path = tmp_path / 'bad.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(str(path), what='teacher')
    message = str(error.value)
    expected = expected.format(good=tmp_path / 'good.pth')
    assert message.startswith(f"Cannot read the teacher checkpoint '{path}': {expected}")
    assert message.endswith('then set model.teacher_checkpoint to the file.')


# Emulates a future mmengine whose local loader passes weights_only=False (mmengine #1670):
# re-registered after mmengine registers its own, before anything imports rdimkd_mm.
UNSAFE_MMENGINE = '''
import torch
import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.runner import CheckpointLoader


def load_from_local(filename, map_location=None):
    return torch.load(filename, map_location=map_location, weights_only=False)


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
'''

# Runs before rdimkd_mm is imported: the attack works without it.
CONTROL = '''
import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.runner import CheckpointLoader
loader = CheckpointLoader._get_checkpoint_loader({path!r})
assert loader.__module__ == {module!r}, loader.__module__
CheckpointLoader.load_checkpoint({path!r})
assert 'rdimkd_mm' not in __import__('sys').modules
'''


@pytest.mark.parametrize('attack', ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1', 'mmengine loader '
                                    'with weights_only=False'], ids=['env', 'mmengine'])
def test_crafted_checkpoint_is_refused_on_every_path(attack, det_root, random_teacher,
                                                     tmp_path):
    """One process runs the tools on a crafted checkpoint per path. A control first shows the
    attack works (the payload runs) while rdimkd_mm is not imported."""
    if attack.startswith('TORCH'):  # mmengine 0.10.7's own loader: torch.load's default
        env = dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
        loader_module = 'mmengine.runner.checkpoint'
    else:
        (tmp_path / 'site').mkdir()
        (tmp_path / 'site' / 'sitecustomize.py').write_text(UNSAFE_MMENGINE)
        env, loader_module = dict(PYTHONPATH=str(tmp_path / 'site')), 'sitecustomize'
    control = CONTROL.format(path=str(crafted(tmp_path / 'control.pth')), module=loader_module)
    data = det_data_options(det_root)
    kd = [f'model.teacher_checkpoint={random_teacher}', *data]
    one_iter = ['train_cfg.max_iters=1', 'train_cfg.val_interval=1']
    paths = {
        'teacher (zip)': ('tools/train.py', DET_DISTILL, '--work-dir', tmp_path / 'w1',
                          '--cfg-options', 'model.teacher_checkpoint={evil}', *data),
        'teacher (raw pickle)': ('tools/train.py', DET_DISTILL, '--work-dir', tmp_path / 'w2',
                                 '--cfg-options', 'model.teacher_checkpoint={evil}', *data),
        'train --resume': ('tools/train.py', DET_DISTILL, '--work-dir', tmp_path / 'w3',
                           '--resume', '{evil}', '--cfg-options', *kd),
        'test': ('tools/test.py', DET_DISTILL, '{evil}', '--work-dir', tmp_path / 'w4',
                 '--cfg-options', *kd),
        'export': ('tools/export_student.py', DET_DISTILL, '{evil}', tmp_path / 'w5',
                   '--cfg-options', *kd),
        'projections_file': ('tools/train.py', DET_DISTILL, '--work-dir', tmp_path / 'w6',
                             '--cfg-options', 'custom_hooks.0.projections_file={evil}', *kd),
        'load_from (plain model)': ('tools/train.py', DET_STUDENT, '--work-dir', tmp_path / 'w7',
                                    '--cfg-options', 'load_from={evil}', *one_iter, *data),
        # Read by mmengine itself (the model's init_weights), not early by tools/train.py.
        'init_cfg (mmengine)': ('tools/train.py', DET_STUDENT, '--work-dir', tmp_path / 'w8',
                                '--cfg-options', 'model.neck.init_cfg.type=Pretrained',
                                'model.neck.init_cfg.checkpoint={evil}', *one_iter, *data),
    }
    cases, files = [dict(name='control', code=control)], {}
    for i, (name, (tool, *args)) in enumerate(paths.items()):
        files[name] = crafted(tmp_path / f'evil{i}.pth', raw_pickle='raw' in name)
        cases.append(dict(name=name, tool=tool,
                          args=[str(a).replace('{evil}', str(files[name])) for a in args]))
    outcomes = run_cases(cases, env=env)

    assert outcomes['control']['error'] is None, outcomes['control']
    assert ran(tmp_path / 'control.pth').exists(), 'the attack did not work without rdimkd_mm'
    for name, path in files.items():
        error = outcomes[name]['error'] or ''
        assert error.startswith('CheckpointError: Refused to load'), (name, outcomes[name])
        stop = 'Unsupported operand 149' if 'raw' in name else 'Unsupported global: GLOBAL exec'
        assert f'stopped at "{stop}"' in error, (name, error)
        assert repr(str(path)) in error, (name, error)
        assert not ran(path).exists(), f'{name}: the payload ran'
