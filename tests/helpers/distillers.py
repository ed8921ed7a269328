"""Small mmdet distillers built in-process: the RetinaNet pair of the synthetic configs, tiny
FCOS / Faster R-CNN models, a dataloader-style batch and one training step's losses."""
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

import rdimkd_mm  # noqa: F401
from rdimkd_mm.engine.projection_fit import fit_projections
from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils import resolve_config_path
from helpers.paths import REPO_ROOT

RETINA_STUDENT = REPO_ROOT / 'configs/_base_/models/retinanet_r18-w16_fpn64.py'
RETINA_TEACHER = REPO_ROOT / 'configs/_base_/models/retinanet_r50-w32_fpn128.py'
SIZE = 128


def model_cfg(path) -> dict:
    return Config.fromfile(str(path)).model.to_dict()


def tiny_resnet(depth: int, width: int) -> dict:
    return dict(type='ResNet', depth=depth, base_channels=width, num_stages=4,
                out_indices=(0, 1, 2, 3), frozen_stages=-1, norm_eval=False, style='pytorch',
                norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None)


def stage_channels(depth: int, width: int) -> list:
    expansion = 1 if depth in (18, 34) else 4
    return [width * expansion * 2**i for i in range(4)]


def fcos_cfg(depth: int, width: int, neck: int) -> dict:
    path = resolve_config_path('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py')
    cfg = Config.fromfile(path).model.to_dict()
    cfg['data_preprocessor'] = model_cfg(RETINA_STUDENT)['data_preprocessor']
    cfg['backbone'] = tiny_resnet(depth, width)
    cfg['neck'].update(in_channels=stage_channels(depth, width), out_channels=neck)
    cfg['bbox_head'].update(num_classes=8, in_channels=neck, feat_channels=neck, stacked_convs=2)
    return cfg


def faster_rcnn_cfg(depth: int, width: int, neck: int) -> dict:
    path = resolve_config_path('mmdet::_base_/models/faster-rcnn_r50_fpn.py')
    cfg = Config.fromfile(path).model.to_dict()
    cfg['backbone'] = tiny_resnet(depth, width)
    cfg['neck'].update(in_channels=stage_channels(depth, width), out_channels=neck)
    cfg['rpn_head'].update(in_channels=neck, feat_channels=neck)
    cfg['roi_head']['bbox_roi_extractor']['out_channels'] = neck
    cfg['roi_head']['bbox_head'].update(in_channels=neck, fc_out_channels=64, num_classes=8)
    return cfg


def fpn_point(k: int = 16, projection: str = 'rdimkd_mm.RandomProjection', **loss) -> dict:
    return dict(name='fpn', student='neck', teacher='neck',
                loss=dict(type='rdimkd_mm.RdimKDLoss', projection=dict(type=projection, k=k),
                          **loss))


def build_distiller(student: dict, teacher: dict, checkpoint: str, distill=None, fit=True,
                    **kwargs):
    """The distiller, with its projections and loss scales fitted on one batch if ``fit``."""
    distiller = MODELS.build(dict(type='rdimkd_mm.FeatureDistiller', student=student,
                                  teacher=teacher, teacher_checkpoint=checkpoint,
                                  distill=distill or [fpn_point()], probe_size=(SIZE, SIZE),
                                  **kwargs))
    if fit:
        fit_projections(distiller, [raw_batch(seed=9)], num_batches=1, progress=False)
    return distiller


def raw_batch(n: int = 2, seed: int = 0) -> dict:
    """A dataloader-style batch: uint8 images and data samples with ground truth boxes."""
    from mmdet.structures import DetDataSample
    generator = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=generator,
                                    dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                             scale_factor=(1.0, 1.0), img_id=0))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 12., 60., 70.], [64., 30., 120., 100.]]),
            labels=torch.tensor([1, 3]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def train_losses(distiller, batch=None) -> dict:
    data = distiller.data_preprocessor(batch or raw_batch(), True)
    return distiller(**data, mode='loss')


def total(losses: dict) -> torch.Tensor:
    return sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)
