"""Pictures: the projected-feature hook, tools/compare_predictions.py and mmdet's own tools."""
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rdimkd_mm.engine.hooks.feature_vis_hook import _shared_rgb
from helpers.models import DET_DISTILL
from helpers.paths import REPO_ROOT
from helpers.tools import det_data_options, run_cases, seg_data_options

DET_TEACHER = 'configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py'
DET_STUDENT = 'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py'
SEG_TEACHER = 'configs/synthetic/pspnet_r50-w32-d8_synthetic-cityscapes.py'
SEG_DISTILL = 'configs/rdimkd/rdimkd-a_pspnet_r50-w32_r18-w16_synthetic-cityscapes.py'
# mmdet's own tools/, installed inside the package (they are not scripts on the PATH).
MMDET_TOOLS = str(Path(importlib.util.find_spec('mmdet').origin).parent / '.mim' / 'tools')

# Random-init teachers: the pictures need the teachers' weights, not their accuracy.
SAVE_TEACHERS = """
import torch
from rdimkd_mm.utils import build_model
for config, path in {pairs!r}:
    torch.manual_seed(0)
    torch.save(dict(state_dict=build_model(config)[0].state_dict()), path)
"""


def png_shape(path: Path) -> tuple:
    import mmcv
    return mmcv.imread(str(path)).shape


def train_losses(work_dir: Path) -> list:
    """Per logged iteration, every loss and KD term of the run's scalars.json."""
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k.startswith(('loss', 'kd_'))} for r in records
            if 'loss' in r]


@pytest.fixture(scope='module')
def runs(det_root, seg_root, tmp_path_factory) -> SimpleNamespace:
    """One process: random teachers; the det distillation with and without the hook (2 iters at
    128 px, pictures at 1 and at the end); the seg distillation with it (1 iter); the tools.
    Returns their folder (``dir``) and each case's output (``output``)."""
    tmp = tmp_path_factory.mktemp('vis')
    (tmp / 'no_vis.py').write_text(
        f"_base_ = ['{REPO_ROOT / DET_DISTILL}']\n"
        "custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=1)]\n")
    teachers = [(DET_TEACHER, str(tmp / 'det_teacher.pth')),
                (SEG_TEACHER, str(tmp / 'seg_teacher.pth'))]
    # One process: each run names its own visualizer (an mmengine global instance by name).
    common = ['--no-teacher-eval', '--cfg-options', 'default_hooks.logger.interval=1',
              'val_dataloader.dataset.indices=2']  # the images drawn (the final validation)
    det_teacher = f'model.teacher_checkpoint={tmp}/det_teacher.pth'
    det = [det_teacher, 'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2',
           'train_dataloader.dataset.pipeline.2.scale=(128,128)',
           'val_dataloader.dataset.pipeline.1.scale=(128,128)', 'model.probe_size=(128,128)',
           *det_data_options(det_root)]
    seg = [f'model.teacher_checkpoint={tmp}/seg_teacher.pth', 'train_cfg.max_iters=1',
           'default_hooks.checkpoint.interval=1', 'custom_hooks.0.num_batches=1',
           *seg_data_options(seg_root)]
    outcomes = run_cases([
        dict(name='teachers', code=SAVE_TEACHERS.format(pairs=teachers)),
        dict(name='det_vis', tool='tools/train.py',
             args=[DET_DISTILL, '--work-dir', tmp / 'det_vis', *common, *det,
                   'custom_hooks.1.interval=1', 'visualizer.name=det_vis']),
        dict(name='det_plain', tool='tools/train.py',
             args=[tmp / 'no_vis.py', '--work-dir', tmp / 'det_plain', *common, *det,
                   'visualizer.name=det_plain']),
        dict(name='seg_vis', tool='tools/train.py',
             args=[SEG_DISTILL, '--work-dir', tmp / 'seg_vis', *common, *seg]),
        dict(name='compare', tool='tools/compare_predictions.py',
             args=[tmp / 'compare', '--model', 'teacher', DET_TEACHER, tmp / 'det_teacher.pth',
                   '--model', 'RdimKD', DET_DISTILL, tmp / 'det_vis' / 'iter_2.pth',
                   '--num-images', 2, '--cfg-options', *det_data_options(det_root)]),
        dict(name='flops_distill', tool=f'{MMDET_TOOLS}/analysis_tools/get_flops.py',
             args=[DET_DISTILL, '--num-images', 1, '--cfg-options', det_teacher,
                   *det_data_options(det_root)]),
        dict(name='flops_student', tool=f'{MMDET_TOOLS}/analysis_tools/get_flops.py',
             args=[DET_STUDENT, '--num-images', 1, '--cfg-options', *det_data_options(det_root)]),
        dict(name='browse', tool=f'{MMDET_TOOLS}/analysis_tools/browse_dataset.py',
             args=[DET_DISTILL, '--output-dir', tmp / 'browse', '--not-show', '--cfg-options',
                   *det_data_options(det_root)]),
    ])
    for name, outcome in outcomes.items():
        assert outcome['error'] is None, f'{name}: {outcome["error"]}\n{outcome["output"][-4000:]}'
    return SimpleNamespace(dir=tmp, output={k: v['output'] for k, v in outcomes.items()})


def test_hook_draws_det_levels_at_the_interval_and_the_end(runs):
    images = sorted((runs.dir / 'det_vis').glob('*/vis_data/vis_image/*.png'))
    assert [p.name for p in images] == ['kd_features_fpn_1.png', 'kd_features_fpn_2.png']
    # 2 validation images (rows) x (input + teacher and student of P3-P5), 128 px panels.
    assert png_shape(images[-1]) == (2 * 128, 7 * 128, 3)


def test_hook_does_not_change_training(runs):
    with_hook, without = train_losses(runs.dir / 'det_vis'), train_losses(runs.dir / 'det_plain')
    assert len(with_hook) == 2 and 'loss_kd_fpn' in with_hook[0]
    assert with_hook == without
    assert not list((runs.dir / 'det_plain').glob('*/vis_data/vis_image/*.png'))
    # The weights and the batch-norm statistics too: the drawing runs in eval mode, no grad.
    a, b = (torch.load(runs.dir / run / 'iter_2.pth')['state_dict']
            for run in ('det_vis', 'det_plain'))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_hook_draws_the_segmentation_point(runs):
    (image, ) = (runs.dir / 'seg_vis').glob('*/vis_data/vis_image/*.png')
    assert image.name == 'kd_features_head_1.png'  # after training, at its last iteration
    # 256x512 validation images: 128x256 panels, input + teacher + student.
    assert png_shape(image) == (2 * 128, 3 * 256, 3)


def test_compare_predictions_draws_ground_truth_and_each_model(runs):
    images = sorted((runs.dir / 'compare').glob('*.png'))
    assert len(images) == 2
    import mmcv
    drawn = mmcv.imread(str(images[0]))
    assert drawn.shape == (18 + 256, 3 * 256, 3)  # titles; ground truth, teacher, RdimKD
    ground_truth, teacher = drawn[18:, :256].astype(int), drawn[18:, 256:512].astype(int)
    assert np.abs(ground_truth - teacher).mean() > 1  # the boxes are drawn on the first


def test_shared_normalisation_shows_a_difference_in_scale():
    torch.manual_seed(0)
    teacher = torch.randn(8, 32, 32)
    same = _shared_rgb(teacher, teacher.clone())
    assert same[0].shape == (3, 32, 32) and torch.equal(same[0], same[1])
    assert 0 <= float(same[0].min()) and float(same[0].max()) <= 1
    # A student at a tenth of the teacher's scale is drawn flat (near the middle grey), not
    # stretched to the teacher's contrast as a normalisation of its own would do.
    small = _shared_rgb(teacher, teacher / 10)
    contrast = [float(x.std(dim=(1, 2)).mean()) for x in small]
    assert contrast[1] < contrast[0] / 5
    # Fewer than three components: the first one in grey.
    grey = _shared_rgb(teacher[:2], teacher[:2])[0]
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])


def test_mmdet_get_flops_counts_the_student_of_a_distillation_config(runs):
    flops = {name: re.search(r'Flops: (\S+)', runs.output[name]).group(1)
             for name in ('flops_distill', 'flops_student')}
    assert flops['flops_distill'] == flops['flops_student'] != '0.0'


def test_mmdet_browse_dataset_draws_a_distillation_configs_training_data(runs, det_root):
    drawn = list((runs.dir / 'browse').glob('*.jpg'))
    assert len(drawn) == len(list((det_root / 'train').glob('*.jpg'))) == 16
