"""What the real-data suites run: the shipped COCO / Cityscapes distillation configs, per pair.

A pair is one teacher -> student of the model zoo: its teacher is evaluated once, its student
baseline is the zoo metafile's number (or, on request, retrained with every seed for paired
differences), and each of its arms (the RdimKD default, other RdimKD variants, the peer
method) is a shipped config trained with ``tools/train.py`` on every seed.
"""
import ast
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO = 'configs/rdimkd/coco'
CITYSCAPES = 'configs/rdimkd/cityscapes'


@dataclass(frozen=True)
class Pair:
    """One zoo teacher -> student pair and its arms (arm -> shipped config, first = default)."""
    name: str
    arms: Tuple[Tuple[str, str], ...]

    @property
    def default_arm(self) -> str:
        return self.arms[0][0]

    @property
    def default_config(self) -> str:
        """The RdimKD default's config; its teacher and student are the pair's."""
        return self.arms[0][1]

    def config(self, arm: str) -> str:
        return dict(self.arms)[arm]


@dataclass(frozen=True)
class Suite:
    """A real dataset, its metric and its pairs."""
    name: str
    kind: str  # 'det' or 'seg'
    dataset: str
    metric_key: str  # in mmengine's logged scalars / test metrics
    metric_scale: float  # logged value -> the zoo's unit (mAP 0-1 -> %)
    zoo_metric: str  # the metafile's metric name
    metric_name: str
    data_root: str  # the config's default data root
    gpus: int  # the GPUs the configs' learning rates are written for (8x2 COCO, 4x2 Cityscapes)
    pairs: Tuple[Pair, ...]

    def pair(self, name: str) -> Pair:
        return {p.name: p for p in self.pairs}[name]

    def data_options(self, root: Optional[str]) -> List[str]:
        """--cfg-options that point every loader (and COCO's evaluators) at ``root``."""
        if not root:
            return []
        root = root.rstrip('/') + '/'
        options = [f'{loader}.dataset.data_root={root}'
                   for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
        if self.kind == 'det':
            ann = f'{root}annotations/instances_val2017.json'
            options += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
        return options


SUITES: Dict[str, Suite] = {
    'coco': Suite(
        name='coco', kind='det', dataset='COCO', metric_key='coco/bbox_mAP', metric_scale=100.0,
        zoo_metric='box AP', metric_name='box AP', data_root='data/coco', gpus=8,
        pairs=(
            Pair('retinanet_r101-r50', (
                ('rdimkd-r', f'{COCO}/rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py'),
                ('rdimkd-p', f'{COCO}/rdimkd-p_fpn_retinanet-r101_retinanet-r50_1x_coco.py'),
                ('rdimkd-a', f'{COCO}/rdimkd-a_fpn_retinanet-r101_retinanet-r50_1x_coco.py'),
                ('pkd', 'configs/peers/coco/pkd_fpn_retinanet-r101_retinanet-r50_1x_coco.py'))),
            Pair('retinanet_x101-r50', (
                ('rdimkd-r',
                 f'{COCO}/rdimkd-r_fpn_retinanet-x101-64x4d_retinanet-r50_1x_coco.py'), )),
            Pair('faster-rcnn_r101-r50', (
                ('rdimkd-r', f'{COCO}/rdimkd-r_fpn_faster-rcnn-r101_faster-rcnn-r50_1x_coco.py'),
            )),
            Pair('fcos_r101-r50', (
                ('rdimkd-r', f'{COCO}/rdimkd-r_fpn_fcos-r101_fcos-r50_1x_coco.py'), )),
            Pair('gfl_r101-r50', (('rdimkd-r', f'{COCO}/rdimkd-r_fpn_gfl-r101_gfl-r50_2x_coco.py'),
                                  )),
        )),
    'cityscapes': Suite(
        name='cityscapes', kind='seg', dataset='Cityscapes', metric_key='mIoU', metric_scale=1.0,
        zoo_metric='mIoU', metric_name='mIoU', data_root='data/cityscapes', gpus=4,
        pairs=(
            Pair('pspnet_r101-r18', (
                ('rdimkd-a', f'{CITYSCAPES}/rdimkd-a_pspnet-r101-d8_pspnet-r18-d8_'
                 '4xb2-80k_cityscapes-512x1024.py'),
                ('cwd', 'configs/peers/cityscapes/cwd_pspnet-r101-d8_pspnet-r18-d8_'
                 '4xb2-80k_cityscapes-512x1024.py'))),
            Pair('deeplabv3_r101-r18', (
                ('rdimkd-a', f'{CITYSCAPES}/rdimkd-a_deeplabv3-r101-d8_deeplabv3-r18-d8_'
                 '4xb2-80k_cityscapes-512x1024.py'), )),
        )),
}

ARM_TITLES = {
    'teacher': 'teacher', 'baseline': 'student (baseline)', 'rdimkd-r': 'student + RdimKD-R',
    'rdimkd-p': 'student + RdimKD-P', 'rdimkd-a': 'student + RdimKD-A',
    'pkd': 'student + PKD', 'cwd': 'student + CWD'
}


def student_zoo_config(config: str) -> str:
    """The zoo config the distillation config's student comes from: the first ``pkg::``
    entry of its ``_base_`` list, following local bases (e.g. ``rdimkd-p`` -> ``rdimkd-r``)."""
    path = osp.join(REPO_ROOT, config) if not osp.isabs(config) else config
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            bases = [bases] if isinstance(bases, str) else bases
            for base in bases:
                if '::' in base:
                    return base
            for base in bases:
                if 'distill' not in base:
                    return student_zoo_config(osp.normpath(osp.join(osp.dirname(path), base)))
    raise ValueError(f'{config}: no mmdet::/mmseg:: student config among its _base_')
