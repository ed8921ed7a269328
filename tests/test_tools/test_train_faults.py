"""Faults through tools/train.py that must lose nothing and name their cause: a diverging run
(plain model and distiller), two runs on one work dir, a failed checkpoint write, and bad
data, configs and checkpoints. All cases run in one process on the tiny synthetic set."""
import shutil
from pathlib import Path

import pytest
import torch

from helpers.tools import det_data_options, run_cases

STUDENT = 'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py'
DISTILL = 'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'
TRAIN = 'tools/train.py'
TINY = ['train_dataloader.dataset.pipeline.2.scale=(128,128)', 'model.probe_size=(128,128)',
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=10', 'custom_hooks.0.num_batches=1']
PLAIN_TINY = [o for o in TINY if not o.startswith(('model.probe_size', 'custom_hooks'))]
DIVERGE = ['optim_wrapper.optimizer.lr=1e6', 'train_cfg.max_iters=12']

HOLD_LOCK = '''
import subprocess, sys, builtins
builtins.holder = subprocess.Popen(
    [sys.executable, '-c', 'import sys, time; from rdimkd_mm.utils.work_dir_lock import '
     'work_dir_lock\\nwith work_dir_lock(sys.argv[1]):\\n print("held", flush=True); '
     'time.sleep(600)', {work!r}], stdout=subprocess.PIPE, text=True)
assert builtins.holder.stdout.readline().strip() == 'held'
print('holder pid', builtins.holder.pid)
'''
KILL_HOLDER = '''
import builtins, signal
builtins.holder.send_signal(signal.SIGKILL)
builtins.holder.wait()
'''
FULL_DISK = '''
import os, resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize({first!r}) // 2, hard))
try:
    sys.argv = {argv!r}
    runpy.run_path(sys.argv[0], run_name='__main__')
finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
'''
TEACHERS = '''
import torch
from mmengine.config import Config
from rdimkd_mm.utils import build_model
torch.manual_seed(0)
teacher, _ = build_model(Config.fromfile({config!r}).model.teacher)
state = teacher.state_dict()
torch.save(dict(state_dict=state), {good!r})
ema = dict(state, **{{'ema_' + k.replace('.', '_'): v for k, v in state.items()}})
torch.save(dict(state_dict=ema), {ema!r})
nan = dict(state)
nan['backbone.conv1.weight'] = torch.full_like(state['backbone.conv1.weight'], float('nan'))
torch.save(dict(state_dict=nan), {nan!r})
'''


@pytest.fixture(scope='module')
def faults(det_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('faults')
    data = det_data_options(det_root)
    teacher = {name: tmp / f'{name}_teacher.pth' for name in ('good', 'ema', 'nan')}
    kd = [f'model.teacher_checkpoint={teacher["good"]}', *data, *TINY]
    plain = [*data, *PLAIN_TINY]
    # Data faults: every training image corrupt; an annotation file that is not JSON.
    corrupt = tmp / 'corrupt_data'
    shutil.copytree(det_root, corrupt)
    for image in (corrupt / 'train').iterdir():
        image.write_bytes(b'\xff\xd8\xff\xe0 not the rest of a JPEG')
    (tmp / 'notes.json').write_text('images: none\n')
    (tmp / 'a_file').write_text('')
    locked = tmp / 'locked'
    first = tmp / 'full_disk' / 'iter_1.pth'

    def train(config, work, *options, flags=()):
        return dict(tool=TRAIN, args=[config, '--work-dir', tmp / work, *flags,
                                      '--cfg-options', *options])

    cases = [
        dict(name='teachers', code=TEACHERS.format(config=DISTILL, **{
            k: str(v) for k, v in teacher.items()})),
        dict(name='plain diverges', **train(STUDENT, 'plain_nan', *plain, *DIVERGE)),
        dict(name='distiller diverges', **train(DISTILL, 'kd_nan', *kd, *DIVERGE,
                                                flags=['--no-teacher-eval'])),
        dict(name='distiller diverges unclipped', **train(
            DISTILL, 'kd_nan_unclipped', *kd, *DIVERGE, 'optim_wrapper.clip_grad=None',
            flags=['--no-teacher-eval'])),
        dict(name='KD loss nan', **train(DISTILL, 'kd_loss_nan', *kd, 'train_cfg.max_iters=1',
                                         'model.distill.0.loss.loss_weight=nan',
                                         flags=['--no-teacher-eval'])),
        dict(name='hold lock', code=HOLD_LOCK.format(work=str(locked))),
        dict(name='second run', **train(STUDENT, 'locked', *plain, 'train_cfg.max_iters=1')),
        dict(name='kill holder', code=KILL_HOLDER),
        dict(name='after a crash', **train(STUDENT, 'locked', *plain, 'train_cfg.max_iters=1')),
        dict(name='first checkpoint', **train(STUDENT, 'full_disk', *plain,
                                              'train_cfg.max_iters=1')),
        dict(name='full disk', code=FULL_DISK.format(first=str(first), argv=[
            TRAIN, STUDENT, '--work-dir', str(tmp / 'full_disk'), '--resume',
            '--cfg-options', *plain, 'train_cfg.max_iters=2'])),
        dict(name='corrupt image', **train(STUDENT, 'corrupt', *plain, 'train_cfg.max_iters=1',
                                           f'train_dataloader.dataset.data_root={corrupt}/')),
        dict(name='annotations not JSON', **train(
            STUDENT, 'not_json', *plain, f'train_dataloader.dataset.ann_file={tmp}/notes.json')),
        dict(name='missing data_root', **train(
            STUDENT, 'no_data', *plain, f'train_dataloader.dataset.data_root={tmp}/nowhere/')),
        dict(name='uncreatable work dir', **train(STUDENT, 'a_file/work', *plain)),
        dict(name='backbone as student', **train(DISTILL, 'resnet', *kd,
                                                 'model.student.type=ResNet')),
        dict(name='k=0', **train(DISTILL, 'k0', *kd, 'model.distill.0.loss.projection.k=0')),
        dict(name='NaN teacher', **train(DISTILL, 'nan_teacher', *kd,
                                         f'model.teacher_checkpoint={teacher["nan"]}')),
        dict(name='EMA teacher', **train(DISTILL, 'ema_teacher', *kd,
                                         f'model.teacher_checkpoint={teacher["ema"]}')),
        dict(name='load_from another model', **train(
            STUDENT, 'load_other', *plain, f'load_from={teacher["good"]}')),
    ]
    return dict(outcomes=run_cases(cases), tmp=tmp, teacher=teacher)


def outcome(faults, name: str) -> dict:
    result = faults['outcomes'][name]
    assert 'Traceback' not in (result['error'] or ''), result
    return result


def finite_checkpoints(work: Path) -> list:
    """The checkpoints in ``work``; fails if one holds a NaN or inf tensor."""
    found = sorted(work.glob('iter_*.pth'))
    for path in found:
        state = torch.load(path, weights_only=False)['state_dict']
        bad = [k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()]
        assert not bad, f'{path.name}: {len(bad)} of {len(state)} tensors not finite'
    return found


@pytest.mark.parametrize('name,work', [('plain diverges', 'plain_nan'),
                                       ('distiller diverges', 'kd_nan'),
                                       ('distiller diverges unclipped', 'kd_nan_unclipped')])
def test_a_diverging_run_stops_before_any_non_finite_checkpoint(faults, name, work):
    """lr 1e6: the first non-finite step is not applied; training stops there naming the
    loss, and every checkpoint written holds finite weights (last_checkpoint among them)."""
    result = outcome(faults, name)
    error = result['error'] or ''
    assert error.startswith('FloatingPointError: Iteration '), result['output'][-3000:]
    assert ', so this step was not applied and training stops' in error
    assert 'lower the learning rate (optim_wrapper.optimizer.lr)' in error
    saved = finite_checkpoints(faults['tmp'] / work)
    stop = int(error.split()[2].rstrip(':'))
    assert len(saved) == stop - 1, (error, saved)
    if saved:
        assert f'the last checkpoint, {saved[-1]}, holds finite weights' in error
        pointer = (faults['tmp'] / work / 'last_checkpoint').read_text()
        assert pointer == str(saved[-1])


def test_a_non_finite_kd_loss_is_named_with_its_weight(faults):
    error = outcome(faults, 'KD loss nan')['error']
    assert error == (
        'FloatingPointError: Iteration 1: loss_kd_fpn is nan, so this step was not applied and '
        'training stops; no checkpoint was saved yet. To go on, lower the KD point\'s '
        'loss_weight (model.distill.<i>.loss.loss_weight) and check that the teacher '
        'checkpoint is the one of the teacher config, lower the learning rate '
        '(optim_wrapper.optimizer.lr) or enable gradient clipping '
        '(optim_wrapper.clip_grad=dict(max_norm=10)), then --resume or start afresh.'), error
    assert not list((faults['tmp'] / 'kd_loss_nan').glob('*.pth'))


def test_a_second_run_on_a_work_dir_in_use_is_refused(faults):
    assert outcome(faults, 'hold lock')['error'] is None
    pid = outcome(faults, 'hold lock')['output'].split('holder pid ')[1].split()[0]
    locked = faults['tmp'] / 'locked'
    error = outcome(faults, 'second run')['error']
    assert error.startswith(f'WorkDirInUse: The work dir {locked} is in use by another '
                            f'training run (process {pid} on host '), error
    assert error.endswith(f'lock {locked}/.train.lock). Wait for it to end, stop it, or train '
                          'into another --work-dir.'), error
    assert 'Iter(train)' not in outcome(faults, 'second run')['output']
    # The lock dies with its process, even killed.
    assert outcome(faults, 'after a crash')['error'] is None
    assert (locked / 'iter_1.pth').is_file()


def test_a_failed_checkpoint_write_leaves_no_partial_file(faults):
    """The second checkpoint's write fails half-way (a file size limit stands in for a full
    disk): no iter_2.pth, no temporary file; last_checkpoint still names iter_1.pth."""
    assert outcome(faults, 'first checkpoint')['error'] is None
    work = faults['tmp'] / 'full_disk'
    error = outcome(faults, 'full disk')['error']
    assert error.startswith(f'OSError: [Errno 27] Could not write {work}/iter_2.pth: File too '
                            'large. Nothing was written under that name'), error
    assert [p.name for p in work.glob('*.pth')] == ['iter_1.pth']
    assert [p.name for p in work.glob('.*')] == ['.train.lock']  # no temporary file
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_1.pth')
    torch.load(work / 'iter_1.pth', weights_only=False)


def test_bad_data_is_named_with_its_file_and_the_fix(faults, det_root):
    tmp = faults['tmp']
    error = outcome(faults, 'corrupt image')['error']
    assert error.startswith(f'ValueError: The image {tmp}/corrupt_data/train/'), error
    assert error.endswith('cannot be decoded: the file is corrupt, truncated or not an image. '
                          'Replace it, or delete it and its entry in the annotation file.')
    assert outcome(faults, 'annotations not JSON')['error'] == (
        f'ValueError: {tmp}/notes.json (train_dataloader.dataset.ann_file) is not valid JSON '
        '(Expecting value at line 1, column 1): it is truncated or not an annotation file. '
        'Regenerate or re-download it, or point the config key at the right file.')
    error = outcome(faults, 'missing data_root')['error']
    assert error.startswith(
        f"FileNotFoundError: train_dataloader.dataset.data_root: the folder '{tmp}/nowhere/' "
        'does not exist'), error
    assert 'e.g. --cfg-options train_dataloader.dataset.data_root=PATH' in error
    assert outcome(faults, 'uncreatable work dir')['error'] == (
        f'NotADirectoryError: Cannot create the work dir {tmp}/a_file/work: {tmp}/a_file is a '
        'file, not a directory. Give --work-dir a path whose parents are directories (or move '
        'that file).')


def test_bad_distiller_configs_are_named(faults):
    error = outcome(faults, 'backbone as student')['error']
    assert error.startswith('TypeError: The student is a ResNet, not a detector or '
                            'segmentor'), error
    assert outcome(faults, 'k=0')['error'] == (
        "ValueError: distill point 'fpn': loss.projection: k=0 keeps no channel. k is the "
        'number of teacher channels the projection keeps (an int >= 1, e.g. 32) or their '
        'fraction in (0, 1) (e.g. 0.25): raise it.')


def test_bad_checkpoints_are_named_with_the_fix(faults):
    teacher = faults['teacher']
    assert outcome(faults, 'teachers')['error'] is None
    error = outcome(faults, 'NaN teacher')['error']
    assert error == (
        f"ValueError: The teacher checkpoint '{teacher['nan']}' holds NaN or inf in 1 of "
        f'{len(torch.load(teacher["nan"])["state_dict"])} tensors (backbone.conv1.weight): the '
        'run that wrote it diverged. Use an earlier checkpoint of that run, or retrain it with '
        'a lower learning rate or gradient clipping (optim_wrapper.clip_grad).'), error
    error = outcome(faults, 'EMA teacher')['error']
    assert error.startswith(f"RuntimeError: The teacher checkpoint '{teacher['ema']}' does "
                            "not match the model built from the config: it holds the model's "
                            'weights and '), error
    assert 'ema_* tensors, the averaged copies an EMA hook' in error
    assert 'if not k.startswith("ema_")' in error
    error = outcome(faults, 'load_from another model')['error']
    assert error.startswith(f"RuntimeError: load_from '{teacher['good']}' fits only "), error
    assert ('it is a checkpoint of another model, and training would start from the initial '
            'weights. Set load_from to a checkpoint of this architecture, or to None.') in error
    assert not list((faults['tmp'] / 'load_other').glob('*.pth'))
