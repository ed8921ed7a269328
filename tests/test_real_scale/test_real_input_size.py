"""The shipped real configs at their real input sizes, one training iteration each through
tools/train.py on the CPU: RetinaNet R101 -> R50 and Faster R-CNN R101 -> R50 at 1333x800 on
COCO-2017-layout stand-ins of that size, PSPNet R101-D8 -> R18-D8 on 512x1024 crops of
1024x2048 Cityscapes-layout scenes; random-initialised teachers, no pretrained download."""
import json
import time
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from rdimkd_mm.utils import build_model, pretrained_inits
from synthetic import generate_cityscapes_segmentation, generate_coco_detection, to_coco2017_layout
from helpers.tools import run_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
COCO = 'configs/rdimkd/coco'
CITYSCAPES = 'configs/rdimkd/cityscapes'
CONFIGS = {
    'retinanet': (f'{COCO}/rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py', (1333, 800)),
    'faster-rcnn': (f'{COCO}/rdimkd-r_fpn_faster-rcnn-r101_faster-rcnn-r50_1x_coco.py',
                    (1333, 800)),
    'pspnet': (f'{CITYSCAPES}/rdimkd-a_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_'
               'cityscapes-512x1024.py', (512, 1024)),
}
ONE_ITERATION = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
                 'test_cfg=None', 'test_dataloader=None', 'test_evaluator=None',
                 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                 'default_hooks.logger.interval=1', 'randomness.seed=0']


@pytest.fixture(scope='module')
def coco_full_size(tmp_path_factory) -> Path:
    """One 800x1333 image in the COCO 2017 layout."""
    root = tmp_path_factory.mktemp('coco')
    generate_coco_detection(str(root), num_train=1, num_val=1, image_size=(800, 1333),
                            progress=False)
    to_coco2017_layout(str(root))
    return root


@pytest.fixture(scope='module')
def cityscapes_full_size(tmp_path_factory) -> Path:
    """Two 1024x2048 scenes in the Cityscapes layout (the real image size): the configs' batch
    of 2, the least PSPNet's pooled 1x1 branch can normalise."""
    root = tmp_path_factory.mktemp('cityscapes')
    generate_cityscapes_segmentation(str(root), num_train=2, num_val=1,
                                     image_size=(1024, 2048), progress=False)
    return root


def real_size(config: Config) -> tuple:
    """The training input size the config's pipeline produces: Resize's scale (detection,
    (W, H)) or RandomCrop's crop size (segmentation, (H, W))."""
    for step in config.train_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            return tuple(step['scale'])
        if step['type'] == 'RandomCrop':
            return tuple(step['crop_size'])
    raise AssertionError('no Resize / RandomCrop in the training pipeline')


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_one_iteration_at_the_real_input_size(name, tmp_path, request):
    path, size = CONFIGS[name]
    cfg = Config.fromfile(str(REPO_ROOT / path))
    assert real_size(cfg) == size  # the shipped config is run at its own size, unchanged
    det = 'coco' in path
    data = request.getfixturevalue('coco_full_size' if det else 'cityscapes_full_size')
    teacher, _ = build_model(cfg.model.teacher)
    checkpoint = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), checkpoint)
    del teacher
    options = [f'model.teacher_checkpoint={checkpoint}',
               f'train_dataloader.dataset.data_root={data}/', *ONE_ITERATION]
    options += [f'model.student.{".".join(k)}=None' for k in pretrained_inits(cfg.model.student)]
    if det:  # one epoch of the one image is one iteration (a batch of 1, to keep CI short)
        options += ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=1']
    else:
        options += ['train_cfg.max_iters=1', 'custom_hooks.0.num_batches=1']
    start = time.time()
    run_tool('train.py', path, '--work-dir', tmp_path / 'work', '--no-teacher-eval',
             '--cfg-options', *options)
    scalars, = (tmp_path / 'work').glob('*/vis_data/scalars.json')
    record = json.loads(scalars.read_text().splitlines()[-1])
    assert record['iter'] == 1 and torch.isfinite(torch.tensor(record['loss']))
    assert any(k.startswith('loss_kd_') for k in record), record  # the distillation ran
    print(f'{name}: one iteration at {size} in {time.time() - start:.0f} s (process), '
          f'step {record.get("time", float("nan")):.1f} s')
