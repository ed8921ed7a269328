"""The shipped real configs at their real input sizes, one training iteration each through
tools/train.py on the CPU: RetinaNet R101 -> R50 and Faster R-CNN R101 -> R50 at 1333x800 on
COCO-2017-layout stand-ins of that size, PSPNet R101-D8 -> R18-D8 on 512x1024 crops of
1024x2048 Cityscapes-layout scenes; random-initialised teachers, no pretrained download."""
import json
import time

import pytest
import torch
from mmengine.config import Config

from helpers.models import save_random_teacher
from helpers.paths import REPO_ROOT
from helpers.real_data import no_pretrained_download
from helpers.tools import run_tool

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
    checkpoint = save_random_teacher(path, tmp_path / 'teacher.pth')
    options = [f'model.teacher_checkpoint={checkpoint}',
               f'train_dataloader.dataset.data_root={data}/', *ONE_ITERATION,
               *no_pretrained_download(path)]
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
