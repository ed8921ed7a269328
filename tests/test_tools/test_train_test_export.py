"""End to end through the tools: train, test, resume, distil, export into vanilla mmdet."""
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rdimkd_mm.utils import CheckpointError
from rdimkd_mm.utils.work_dir import latest_readable_checkpoint
from helpers.models import DET_DISTILL
from helpers.paths import REPO_ROOT
from helpers.tools import det_data_options, run_cases, run_tool, seg_data_options

DET_TEACHER = 'configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py'
DET_STUDENT = 'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py'
SEG_STUDENT = 'configs/synthetic/pspnet_r18-w16-d8_synthetic-cityscapes.py'


def iters(n: int, checkpoint_every: int) -> list:
    return [f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
            f'default_hooks.checkpoint.interval={checkpoint_every}']


def metrics(work_dir: Path) -> dict:
    """The metrics tools/test.py logged (the last line of the run's JSON log)."""
    logs = sorted(work_dir.glob('*/*.json'))
    assert logs, f'no JSON log under {work_dir}'
    return json.loads(logs[-1].read_text().strip().splitlines()[-1])


def validation_metrics(work_dir: Path) -> dict:
    """The last validation metrics a tools/train.py run logged (the last line with ``mIoU`` of
    its visualizer scalars)."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert logs, f'no scalars.json under {work_dir}'
    lines = [json.loads(line) for line in logs[-1].read_text().splitlines()]
    validations = [line for line in lines if 'mIoU' in line]
    assert validations, f'the run at {work_dir} logged no validation'
    return validations[-1]


@pytest.fixture(scope='module')
def det_teacher(det_root, tmp_path_factory) -> Path:
    """A RetinaNet teacher trained for 2 iterations by tools/train.py."""
    work_dir = tmp_path_factory.mktemp('det_teacher')
    run_tool('train.py', DET_TEACHER, '--work-dir', work_dir, '--cfg-options',
             *iters(2, 2), *det_data_options(det_root))
    return work_dir / 'iter_2.pth'


def test_train_and_test_plain_detector(det_root, tmp_path):
    run_tool('train.py', DET_STUDENT, '--work-dir', tmp_path, '--cfg-options', *iters(2, 2),
             *det_data_options(det_root))
    assert (tmp_path / 'iter_2.pth').is_file()
    output = run_tool('test.py', DET_STUDENT, tmp_path / 'iter_2.pth', '--work-dir',
                      tmp_path / 'test', '--out', tmp_path / 'results.pkl', '--cfg-options',
                      'model.test_cfg.score_thr=0.0', *det_data_options(det_root))
    assert 'Average Precision' in output  # pycocotools' COCO evaluation ran
    assert 'coco/bbox_mAP' in metrics(tmp_path / 'test')
    with open(tmp_path / 'results.pkl', 'rb') as f:
        assert len(pickle.load(f)) == 8  # one result per validation image


def test_train_and_test_plain_segmentor(seg_root, tmp_path):
    run_tool('train.py', SEG_STUDENT, '--work-dir', tmp_path, '--cfg-options', *iters(2, 2),
             *seg_data_options(seg_root))
    run_tool('test.py', SEG_STUDENT, tmp_path / 'iter_2.pth', '--work-dir', tmp_path / 'test',
             '--cfg-options', *seg_data_options(seg_root))
    # The reference: the validation the training run logged after iteration 2, on the same data
    # (the config's test set is its validation set) with the weights of iter_2.pth.
    validated = validation_metrics(tmp_path)
    tested = metrics(tmp_path / 'test')
    for key in ('mIoU', 'aAcc', 'mAcc'):
        assert tested[key] == validated[key], (key, tested, validated)


def test_test_refuses_a_checkpoint_of_another_model(det_root, det_teacher, tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/test.py', DET_STUDENT, str(det_teacher), '--work-dir',
         str(tmp_path), '--cfg-options', *det_data_options(det_root)],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'does not match the model built from the config' in result.stderr


def test_distill_resume_is_exact(det_root, det_teacher, tmp_path):
    options = [f'model.teacher_checkpoint={det_teacher}', *det_data_options(det_root)]
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    output = run_tool('train.py', DET_DISTILL, '--work-dir', straight, '--cfg-options',
                      *iters(4, 2), 'default_hooks.logger.interval=1', *options)
    assert 'loss_kd_fpn' in output and 'loss_cls' in output and 'kd_ratio_fpn' in output
    # The plot tool draws the real run's curves (task, KD, ratio, validation).
    run_tool('plot_logs.py', straight, '--out', tmp_path / 'curves.png')
    assert (tmp_path / 'curves.png').read_bytes()[:4] == b'\x89PNG'
    resumed.mkdir()
    (resumed / 'iter_2.pth').write_bytes((straight / 'iter_2.pth').read_bytes())
    output = run_tool('train.py', DET_DISTILL, '--work-dir', resumed, '--resume',
                      resumed / 'iter_2.pth', '--cfg-options', *iters(4, 2), *options)
    assert 'resumed epoch: 0, iter: 2' in output
    a = torch.load(straight / 'iter_4.pth')
    b = torch.load(resumed / 'iter_4.pth')
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    assert not any(k.startswith('teacher') for k in a['state_dict'])


VANILLA_TEST = """
import json
import sys
sys.modules['rdimkd_mm'] = None  # vanilla mmdet/mmseg: importing rdimkd_mm would fail
from mmengine.config import Config
from mmengine.runner import Runner
library, config, weights, out = sys.argv[1:5]
if library == 'mmdet':
    from mmdet.apis import init_detector as init_model
else:
    from mmseg.apis import init_model
init_model(config, weights, device='cpu')
cfg = Config.fromfile(config)
cfg.work_dir = out
cfg.load_from = weights
if library == 'mmdet':
    dump = dict(type='DumpDetResults', out_file_path=out + '/r.pkl')
    cfg.test_evaluator = [cfg.test_evaluator, dump]
metrics = Runner.from_cfg(cfg).test()
print('VANILLA ' + json.dumps({k: float(v) for k, v in metrics.items()}))
"""


def run_vanilla(library: str, export_dir: Path, out: Path) -> dict:
    """Evaluate an exported student where rdimkd_mm cannot be imported; return the metrics."""
    result = subprocess.run(
        [sys.executable, '-c', VANILLA_TEST, library, str(export_dir / 'student.py'),
         str(export_dir / 'student.pth'), str(out)],
        cwd=out.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    line = [x for x in result.stdout.splitlines() if x.startswith('VANILLA ')][-1]
    return json.loads(line[len('VANILLA '):])


def test_export_student_evaluates_the_same_in_vanilla_mmdet(det_root, det_teacher, tmp_path):
    options = [f'model.teacher_checkpoint={det_teacher}', *det_data_options(det_root)]
    run_tool('train.py', DET_DISTILL, '--work-dir', tmp_path / 'kd', '--cfg-options',
             *iters(2, 2), *options)
    checkpoint = tmp_path / 'kd' / 'iter_2.pth'
    # Test and export need no teacher: its checkpoint is gone.
    no_teacher = ['model.teacher_checkpoint=/nonexistent/teacher.pth', *det_data_options(det_root)]
    run_tool('test.py', DET_DISTILL, checkpoint, '--work-dir', tmp_path / 'kd_test', '--out',
             tmp_path / 'kd.pkl', '--cfg-options', 'model.student.test_cfg.score_thr=0.0',
             *no_teacher)
    run_tool('export_student.py', DET_DISTILL, checkpoint, tmp_path / 'export', '--cfg-options',
             'model.student.test_cfg.score_thr=0.0', *no_teacher)
    exported = (tmp_path / 'export' / 'student.py').read_text()
    assert 'rdimkd_mm' not in exported and 'teacher' not in exported
    vanilla = run_vanilla('mmdet', tmp_path / 'export', tmp_path / 'vanilla')
    with open(tmp_path / 'kd.pkl', 'rb') as f:
        ours = pickle.load(f)
    with open(tmp_path / 'vanilla' / 'r.pkl', 'rb') as f:
        theirs = pickle.load(f)
    assert len(ours) == len(theirs) == 8
    assert sum(len(r['pred_instances']['scores']) for r in ours) > 0
    for a, b in zip(ours, theirs):
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(a['pred_instances'][key], b['pred_instances'][key])
    assert vanilla['coco/bbox_mAP'] == metrics(tmp_path / 'kd_test')['coco/bbox_mAP']


SEG_DISTILL = 'configs/rdimkd/rdimkd-a_pspnet_r50-w32_r18-w16_synthetic-cityscapes.py'
SEG_TEACHER = 'configs/synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py'


def test_segmentation_distill_test_and_export_into_vanilla_mmseg(seg_root, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from rdimkd_mm.utils import build_model
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher, _ = build_model(Config.fromfile(str(REPO_ROOT / SEG_DISTILL)).model.teacher)
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'teacher.pth')
    options = [f'model.teacher_checkpoint={tmp_path / "teacher.pth"}', *seg_data_options(seg_root)]
    output = run_tool('train.py', SEG_DISTILL, '--work-dir', tmp_path / 'kd', '--cfg-options',
                      *iters(2, 2), 'default_hooks.logger.interval=1',
                      'custom_hooks.0.num_batches=2', *options)
    # The default (RdimKD-A) fits its autoencoder before the first step (its config's hook).
    assert "Fitting projections and loss scales of ['head'] on 2 batches" in output
    assert 'loss_kd_head' in output and 'decode.loss_ce' in output
    # TeacherEvalHook (added by tools/train.py): the teacher's metrics before training, in the
    # log and the visualizer's scalars beside the student's.
    assert 'Teacher on the validation set: teacher/aAcc' in output
    scalars = next((tmp_path / 'kd').glob('*/vis_data/scalars.json')).read_text()
    assert '"teacher/mIoU"' in scalars and '"mIoU"' in scalars
    # tools/test.py --teacher evaluates it on the config's data: the teacher config's own test.
    run_tool('test.py', SEG_DISTILL, '--teacher', '--work-dir', tmp_path / 'teacher_test',
             '--cfg-options', *options)
    run_tool('test.py', SEG_TEACHER, tmp_path / 'teacher.pth', '--work-dir',
             tmp_path / 'teacher_direct', '--cfg-options', *seg_data_options(seg_root))
    for key in ('mIoU', 'aAcc'):
        assert (metrics(tmp_path / 'teacher_test')[key]
                == metrics(tmp_path / 'teacher_direct')[key])
    checkpoint = tmp_path / 'kd' / 'iter_2.pth'
    run_tool('test.py', SEG_DISTILL, checkpoint, '--work-dir', tmp_path / 'kd_test',
             '--cfg-options', *options)
    ours = metrics(tmp_path / 'kd_test')
    run_tool('export_student.py', SEG_DISTILL, checkpoint, tmp_path / 'export', '--cfg-options',
             *options)
    vanilla = run_vanilla('mmseg', tmp_path / 'export', tmp_path / 'vanilla')
    assert vanilla['mIoU'] == ours['mIoU'] and vanilla['aAcc'] == ours['aAcc']


def test_pca_fitted_by_the_hook_saved_and_not_refitted_on_resume(
        det_root, det_teacher, tmp_path):
    options = [f'model.teacher_checkpoint={det_teacher}',
               'model.distill.0.loss.projection.type=rdimkd_mm.PCAProjection',
               'custom_hooks.0.num_batches=2', *det_data_options(det_root)]
    output = run_tool('train.py', DET_DISTILL, '--work-dir', tmp_path, '--cfg-options',
                      *iters(2, 1), *options)
    assert "Fitting projections and loss scales of ['fpn'] on 2 batches" in output
    state = torch.load(tmp_path / 'iter_1.pth')['state_dict']
    assert bool(state['distill_losses.fpn.projections.0.fitted'])
    output = run_tool('train.py', DET_DISTILL, '--work-dir', tmp_path, '--resume',
                      tmp_path / 'iter_1.pth', '--cfg-options', *iters(2, 1), *options)
    assert 'resumed epoch: 0, iter: 1' in output and 'Fitting projections' not in output
    resumed = torch.load(tmp_path / 'iter_2.pth')['state_dict']
    assert torch.equal(resumed['distill_losses.fpn.projections.0.weight'],
                       state['distill_losses.fpn.projections.0.weight'])


def test_projections_fitted_offline_are_used_without_refitting(det_root, det_teacher, tmp_path):
    options = [f'model.teacher_checkpoint={det_teacher}',
               'model.distill.0.loss.projection.type=rdimkd_mm.PCAProjection',
               *det_data_options(det_root)]
    run_tool('fit_projections.py', DET_DISTILL, tmp_path / 'pca.pth', '--num-batches', '2',
             '--cfg-options', *options)
    output = run_tool('train.py', DET_DISTILL, '--work-dir', tmp_path / 'kd', '--cfg-options',
                      *iters(1, 1), f'custom_hooks.0.projections_file={tmp_path / "pca.pth"}',
                      *options)
    assert 'Fitting projections' not in output and 'loaded from' in output
    fitted = torch.load(tmp_path / 'pca.pth')['state_dict']
    trained = torch.load(tmp_path / 'kd' / 'iter_1.pth')['state_dict']
    for key, value in fitted.items():
        assert torch.equal(trained[f'distill_losses.{key}'], value), key


def test_resume_with_nothing_to_resume_keeps_load_from(det_root, det_teacher, tmp_path):
    """A fresh work dir: --resume finds no checkpoint and starts from load_from (not scratch)."""
    output = run_tool('train.py', DET_TEACHER, '--work-dir', tmp_path, '--resume',
                      '--cfg-options', *iters(1, 1), f'load_from={det_teacher}',
                      *det_data_options(det_root))
    assert f'no checkpoint in {tmp_path} yet, so this run starts from load_from' in output
    assert f'Load checkpoint from {det_teacher}' in output


def test_distiller_takes_the_teacher_work_dir(det_root, det_teacher, tmp_path):
    """teacher_checkpoint may name the teacher's work dir: its last_checkpoint is used."""
    output = run_tool('train.py', DET_DISTILL, '--work-dir', tmp_path, '--cfg-options',
                      *iters(1, 1), f'model.teacher_checkpoint={det_teacher.parent}',
                      *det_data_options(det_root))
    assert f'The teacher checkpoint: {det_teacher}' in output
    assert 'Teacher on the validation set:' in output  # TeacherEvalHook, see the seg test


# ------------------------------------------------------------------ bad inputs, used work dirs
@pytest.fixture(scope='module')
def bad_inputs(det_root, det_teacher, tmp_path_factory) -> dict:
    """One process runs tools/train.py on a used work dir and on bad inputs, in this order:
    ``--overwrite`` over an earlier run, a fresh run there, ``--resume`` after its newest
    checkpoint was truncated, ``--resume`` of bad files, an empty training set, and a
    distiller's ``load_from`` or ``--resume`` of another model, and a fitted projection without
    its fit hook. Returns the outcomes and the paths."""
    root = tmp_path_factory.mktemp('bad_inputs')
    work = root / 'work'
    work.mkdir()
    (work / 'iter_9.pth').write_bytes(b'an earlier run')
    (work / 'last_checkpoint').write_text(str(work / 'iter_9.pth'))
    (work / 'notes.txt').write_text('not a checkpoint: kept')
    (root / 'text.pth').write_text('iteration 2 was good\n')
    (root / 'empty.json').write_text('{"images": [], "annotations": [], "categories": []}')
    data = det_data_options(det_root)
    no_val = [*iters(2, 1), 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']
    train = ['tools/train.py', DET_STUDENT, '--work-dir', work]
    truncate = (f'import shutil; shutil.copy({str(work / "iter_2.pth")!r}, '
                f'{str(root / "trunc.pth")!r})\n'
                f'for p in ({str(work / "iter_2.pth")!r}, {str(root / "trunc.pth")!r}):\n'
                '    open(p, "r+b").truncate(2000)')
    cases = [
        dict(name='overwrite', tool=train[0],
             args=[*train[1:], '--overwrite', '--cfg-options', *data, *no_val]),
        dict(name='fresh run in a used work dir', tool=train[0],
             args=[*train[1:], '--cfg-options', *data, *no_val]),
        dict(name='truncate iter_2.pth', code=truncate),
        dict(name='resume falls back', tool=train[0],
             args=[*train[1:], '--resume', '--cfg-options', *data, *no_val]),
        dict(name='resume a text file', tool=train[0],
             args=[*train[1:], '--resume', root / 'text.pth', '--cfg-options', *data]),
        dict(name='resume a truncated file', tool=train[0],
             args=[*train[1:], '--resume', root / 'trunc.pth', '--cfg-options', *data]),
        dict(name='empty training set', tool=train[0],
             args=[DET_STUDENT, '--work-dir', root / 'empty', '--cfg-options', *data,
                   f'train_dataloader.dataset.ann_file={root / "empty.json"}']),
        dict(name='load_from of another model', tool=train[0],
             args=[DET_DISTILL, '--work-dir', root / 'kd', '--cfg-options',
                   f'model.teacher_checkpoint={det_teacher}', f'load_from={det_teacher}',
                   *data]),
        dict(name='resume of another model', tool=train[0],
             args=[DET_DISTILL, '--work-dir', root / 'kd', '--resume', det_teacher,
                   '--cfg-options', f'model.teacher_checkpoint={det_teacher}', *data]),
        dict(name='fitted projection without its hook', tool=train[0],
             args=[DET_DISTILL, '--work-dir', root / 'no_fit', '--no-teacher-eval',
                   '--cfg-options', f'model.teacher_checkpoint={det_teacher}',
                   'model.distill.0.loss.projection.type=rdimkd_mm.AutoencoderProjection',
                   'custom_hooks=[]', *data]),
    ]
    return dict(outcomes=run_cases(cases), work=work, root=root)


def test_a_fitted_projection_without_its_hook_is_named(bad_inputs):
    """A config of RdimKD-A (e.g. a segmentation pair that left out ``seg_distill_hooks``)
    without FitProjectionsHook stops at its first step, naming the projection and the hook."""
    error = bad_inputs['outcomes']['fitted projection without its hook']['error']
    assert error and 'AutoencoderProjection of level 0 is not fitted' in error, error
    assert "dict(type='rdimkd_mm.FitProjectionsHook') to custom_hooks" in error, error


def test_overwrite_deletes_only_the_earlier_runs_checkpoints(bad_inputs):
    assert bad_inputs['outcomes']['overwrite']['error'] is None, bad_inputs['outcomes']
    work = bad_inputs['work']
    assert 'deleted the earlier run\'s iter_9.pth, last_checkpoint' in \
        bad_inputs['outcomes']['overwrite']['output']
    assert not (work / 'iter_9.pth').exists() and (work / 'notes.txt').is_file()


def test_fresh_run_refuses_a_work_dir_with_checkpoints(bad_inputs):
    work = bad_inputs['work']
    assert bad_inputs['outcomes']['fresh run in a used work dir']['error'] == (
        f'FileExistsError: The work dir {work} holds the checkpoints of an earlier run '
        '(iter_1.pth, iter_2.pth, last_checkpoint), which this fresh run would overwrite. '
        'Continue that run with --resume, train into another --work-dir, or pass --overwrite '
        'to delete them and start afresh.')


def test_resume_falls_back_to_the_newest_readable_checkpoint(bad_inputs):
    """last_checkpoint names a truncated iter_2.pth: --resume warns and takes iter_1.pth."""
    outcome, work = bad_inputs['outcomes']['resume falls back'], bad_inputs['work']
    assert outcome['error'] is None, outcome
    assert f"--resume: skipped {work / 'iter_2.pth'} (the file is truncated or corrupted" in \
        outcome['output']
    assert f'Resuming from {work / "iter_1.pth"}, the newest readable checkpoint' in \
        outcome['output']
    assert 'resumed epoch: 0, iter: 1' in outcome['output']
    assert torch.load(work / 'iter_2.pth')['meta']['iter'] == 2  # written again


def test_resume_of_a_text_file_names_it(bad_inputs):
    path = bad_inputs['root'] / 'text.pth'
    assert bad_inputs['outcomes']['resume a text file']['error'] == (
        f"CheckpointError: Cannot read the resume checkpoint '{path}': it is a text file "
        "(starting 'iteration 2 was good'), not a checkpoint. Resume from another checkpoint of "
        'the run, or give --resume without a path: it takes the newest readable checkpoint in '
        'the work dir.')


def test_resume_of_a_truncated_file_names_it(bad_inputs):
    path = bad_inputs['root'] / 'trunc.pth'
    assert bad_inputs['outcomes']['resume a truncated file']['error'].startswith(
        f"CheckpointError: Cannot read the resume checkpoint '{path}': the file is truncated or "
        'corrupted, or was not written by torch.save (')


def test_empty_training_set_is_named(bad_inputs):
    error = bad_inputs['outcomes']['empty training set']['error']
    assert error.startswith('ValueError: The training set is empty: train_dataloader.dataset '
                            "(CocoDataset, {'data_root': "), error
    assert str(bad_inputs['root'] / 'empty.json') in error and 'filter_empty_gt' in error


def test_distiller_refuses_load_from_of_another_model(bad_inputs, det_teacher):
    """mmengine would load it non-strictly and train a random student."""
    error = bad_inputs['outcomes']['load_from of another model']['error']
    assert error.startswith(
        f"RuntimeError: The load_from checkpoint '{det_teacher}' does not match the model built "
        "from the config: missing keys ['student.backbone.conv1.weight'"), error
    assert "unexpected keys ['backbone.conv1.weight'" in error
    assert "model.student.init_cfg=dict(type='Pretrained', checkpoint=PATH)" in error


def test_distiller_refuses_resume_of_another_model(bad_inputs, det_teacher):
    error = bad_inputs['outcomes']['resume of another model']['error']
    assert error.startswith(
        f"RuntimeError: The resume checkpoint '{det_teacher}' does not match the model built "
        "from the config: missing keys ['student.backbone.conv1.weight'"), error
    assert error.endswith('--resume takes a checkpoint of a run of the same config.')


def test_resume_with_no_readable_checkpoint_lists_them(tmp_path):
    (tmp_path / 'iter_1.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_3.pth'))  # gone
    with pytest.raises(CheckpointError, match=r'no checkpoint in .* can be read: .*iter_3\.pth '
                       r'\(it does not exist\); .*iter_1\.pth \(the file is empty\)\. .*'
                       r'--overwrite'):
        latest_readable_checkpoint(str(tmp_path))
