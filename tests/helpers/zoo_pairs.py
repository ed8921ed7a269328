"""Teacher-student pairs from mmdet's and mmseg's own model zoos that the suite trains through
mmengine's Runner (tests/test_tools/test_runner_pairs.py): the single list the docs' table of
tested pairs is generated from (:func:`markdown_table`).

A pair marked ``inspected`` trains the config that ``tools/inspect_pair.py --write-config``
writes for it, unedited (its proposal must be the listed points). Every other pair is written as
the distillation config a user would write (:func:`distill_config`): the student's zoo config as
``_base_``, its ``model`` replaced by a ``FeatureDistiller`` with the teacher's zoo config, and
RdimKD-R at the listed points.
"""
import textwrap
from typing import Dict, List, NamedTuple, Optional, Tuple

K = 16  # RdimKD-R projection size of every tested point (small: tests only)


class Point(NamedTuple):
    """One distillation point: the logged loss is ``loss_kd_<name>``."""
    name: str
    student: str
    teacher: str


class ZooPair(NamedTuple):
    """A zoo pair and how the test trains it.

    ``epochs``: training epochs of an epoch-based schedule (one iteration each: two images,
    batch size 2), iterations of an iteration-based one.
    ``hooks``: overrides of the config's own ``custom_hooks``, by hook type.
    ``switch_messages``/``switch_losses``: log messages and losses that a hook's switch (YOLOX's
    mode) brings after the first epoch: absent before and in the first iteration, present after.
    ``options``: further ``--cfg-options`` the tiny test inputs need.
    ``checkpoint``: keep the config's checkpoint hook, which saves at the end of training, and
    check the checkpoint (no teacher weights, also not in the EMA copy).
    ``size``: input and probe size (px) when the models need more than the default.
    ``teacher_eval``: keep a validation set, so that tools/train.py's teacher check runs (the
    student is not validated); ``messages``: what the log must say.
    ``inspected``: train the config tools/inspect_pair.py writes (with its default loss, probe
    size and hooks), whose proposed points must be ``points``; ``notes``: what the inspector
    must print.
    """
    id: str
    task: str  # 'detection' or 'segmentation'
    teacher: str
    student: str
    points: Tuple[Point, ...]
    covers: str
    epochs: int = 1
    hooks: Dict[str, Dict[str, object]] = {}
    switch_messages: Tuple[str, ...] = ()
    switch_losses: Tuple[str, ...] = ()
    options: Dict[str, object] = {}
    checkpoint: bool = False
    size: Optional[int] = None
    teacher_eval: bool = False
    messages: Tuple[str, ...] = ()
    inspected: bool = False
    notes: Tuple[str, ...] = ()

    @property
    def scope(self) -> str:
        return self.student.split('::', 1)[0]


FPN = (Point('fpn', 'neck', 'neck'), )
#: What the inspector prints for a model whose head needs a real batch.
HEADLESS = 'its head could not be probed with a zero image and no annotations'

ZOO_PAIRS: Tuple[ZooPair, ...] = (
    # ------------------------------------------------------------------------- detection
    ZooPair(
        'retinanet-r50_retinanet-r18', 'detection',
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
        (Point('fpn', 'neck', 'neck'), Point('c5', 'backbone[3]', 'backbone[3]')),
        'one-stage; FPN P3-P7 and the last backbone stage (2048 -> 512 channels)'),
    ZooPair(
        'fcos-r50-caffe_retinanet-r18', 'detection',
        'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
        'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', FPN,
        'caffe-style (BGR, std 1) teacher, pytorch-style student: the batch is re-normalised '
        'for the teacher; one-stage of another family'),
    ZooPair(
        'faster-rcnn-r50_retinanet-r18', 'detection',
        'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
        'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
        (Point('fpn', 'neck[0:4]', 'neck[1:5]'), ),
        'two-stage teacher, one-stage student: FPN P2-P6 vs P3-P7, levels of equal stride '
        '(P3-P6)'),
    ZooPair(
        'faster-rcnn-r50_cascade-rcnn-r50', 'detection',
        'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
        'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py', FPN,
        'two-stage teacher, cascade student (three R-CNN stages train)'),
    ZooPair(
        'mask-rcnn-swin-t_mask-rcnn-r50', 'detection',
        'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
        'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', FPN,
        'Swin-T (transformer) teacher; Mask R-CNN student with its mask head and polygon masks'),
    ZooPair(
        'retinanet-r50_retinanet-swin-t', 'detection',
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        'mmdet::swin/retinanet_swin-t-p4-w7_fpn_1x_coco.py', FPN,
        'Swin-T (transformer) student'),
    ZooPair(
        'detr-r50_detr-r18', 'detection',
        'mmdet::detr/detr_r50_8xb2-150e_coco.py',
        'mmdet::detr/detr_r18_8xb2-500e_coco.py', (Point('neck', 'neck', 'neck'), ),
        'DETR: the single-level ChannelMapper map (stride 32)'),
    ZooPair(
        'deformable-detr-r50_dino-4scale-r50', 'detection',
        'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py',
        'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py', (Point('neck', 'neck', 'neck'), ),
        'Deformable DETR teacher, DINO student: the 4-level ChannelMapper maps (strides 8-64)',
        # DINO selects its 900 queries among the encoder's tokens: 340 at 128 px.
        options={'model.student.num_queries': 300}),
    ZooPair(
        'yolox-s_yolox-tiny', 'detection',
        'mmdet::yolox/yolox_s_8xb8-300e_coco.py',
        'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', FPN,
        'YOLOX: MultiImageMixDataset with Mosaic/MixUp, EMAHook, and YOLOXModeSwitchHook '
        'switching to the L1 loss and no mosaic for the second epoch',
        epochs=2,
        hooks={'YOLOXModeSwitchHook': dict(num_last_epochs=0)},
        switch_messages=('No mosaic and mixup aug now!', 'Add additional L1 loss now!'),
        switch_losses=('loss_l1', ),
        checkpoint=True),
    ZooPair(
        'rtmdet-s_rtmdet-tiny', 'detection',
        'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py',
        'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', FPN,
        'RTMDet: CachedMosaic/CachedMixUp, EMAHook (its copy shares the hidden teacher)',
        checkpoint=True),
    ZooPair(
        'retinanet-r50-coco_retinanet-r18-8-classes', 'detection',
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
        (Point('fpn', 'neck[0:3]', 'neck[0:3]'), ),
        'a COCO (80-class) teacher for a student and data of 8 classes: the teacher check warns '
        'and distillation goes on',
        inspected=True,
        options={'model.student.bbox_head.num_classes': 8},
        teacher_eval=True,
        messages=("the teacher is not evaluated (its class count differs from the data set's: "
                  'teacher.bbox_head.num_classes = 80, the validation set has 8 classes)', )),
    ZooPair(
        'yolov3-d53_yolov3-mobilenetv2', 'detection',
        'mmdet::yolo/yolov3_d53_8xb8-320-273e_coco.py',
        'mmdet::yolo/yolov3_mobilenetv2_8xb24-320-300e_coco.py',
        (Point('neck', 'neck', 'neck'), ),
        'YOLOv3: a coarse-to-fine neck with other channels at each level (512, 256, 128 -> '
        '96 each), one connector and projection per level',
        inspected=True,
        options={'train_dataloader.dataset.times': 1}),  # the student's RepeatDataset
    ZooPair(
        'ssd300_ssdlite-mobilenetv2', 'detection',
        'mmdet::ssd/ssd300_coco.py',
        'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
        (Point('neck', 'neck[0:3]', 'neck[1:4]'), ),
        'SSD: a non-FPN neck of extra layers (strides 16-64 here, other channels at each level: '
        '1024, 512, 256 -> 96, 1280, 512); needs a 320 px input and probe',
        size=320, inspected=True,
        # The student's RepeatDataset; its class count is checked against the data's.
        options={'train_dataloader.dataset.times': 1, 'model.student.bbox_head.num_classes': 8}),
    ZooPair(
        'sparse-rcnn-r101_sparse-rcnn-r50', 'detection',
        'mmdet::sparse_rcnn/sparse-rcnn_r101_fpn_ms-480-800-3x_coco.py',
        'mmdet::sparse_rcnn/sparse-rcnn_r50_fpn_1x_coco.py',
        (Point('fpn', 'neck[0:3]', 'neck[0:3]'), ),
        'Sparse R-CNN (query-based, its head needs the data samples): the probe runs only the '
        'backbone and the neck',
        inspected=True, notes=(HEADLESS, )),
    # ---------------------------------------------------------------------- segmentation
    ZooPair(
        'pspnet-r50_pspnet-r18', 'segmentation',
        'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.bottleneck', 'decode_head.bottleneck'),
         Point('c5', 'backbone[3]', 'backbone[3]')),
        'PSPNet: the PSP bottleneck and the last (dilated) backbone stage'),
    ZooPair(
        'deeplabv3plus-r50_deeplabv3plus-r18', 'segmentation',
        'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.sep_bottleneck', 'decode_head.sep_bottleneck'), ),
        'DeepLabV3+: the separable bottleneck (stride 4) before the classifier'),
    ZooPair(
        'segformer-b1_segformer-b0', 'segmentation',
        'mmseg::segformer/segformer_mit-b1_8xb1-160k_cityscapes-1024x1024.py',
        'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
        (Point('head', 'decode_head.fusion_conv', 'decode_head.fusion_conv'),
         Point('c4', 'backbone[3]', 'backbone[3]')),
        'SegFormer (MiT transformer on both sides): the head\'s fusion conv and the last MiT '
        'stage\'s map'),
    ZooPair(
        'upernet-r50_upernet-r18', 'segmentation',
        'mmseg::upernet/upernet_r50_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::upernet/upernet_r18_4xb2-80k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.fpn_bottleneck', 'decode_head.fpn_bottleneck'), ),
        'UPerNet: the FPN bottleneck (stride 4) before the classifier'),
    ZooPair(
        'fcn-r50_fcn-r18', 'segmentation',
        'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::fcn/fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.conv_cat', 'decode_head.conv_cat'), ),
        'FCN: conv_cat (the head concatenates its input) before the classifier'),
    ZooPair(
        'deeplabv3-r50_pspnet-r18', 'segmentation',
        'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.bottleneck', 'decode_head.bottleneck'),
         Point('c5', 'backbone[3]', 'backbone[3]')),
        'different head families: DeepLabV3 (ASPP) teacher, PSPNet student'),
    ZooPair(
        'ocrnet-hr48_ocrnet-hr18s', 'segmentation',
        'mmseg::ocrnet/ocrnet_hr48_4xb2-40k_cityscapes-512x1024.py',
        'mmseg::ocrnet/ocrnet_hr18s_4xb2-40k_cityscapes-512x1024.py',
        (Point('head', 'decode_head.1.object_context_block',
               'decode_head.1.object_context_block'),
         Point('backbone', 'backbone[3]', 'backbone[3]')),
        'OCRNet: a cascade of decode heads (a list: FCN, then OCR); the last head\'s object '
        'context (stride 4) before its classifier',
        inspected=True,
        notes=('decode_head.1.object_context_block (head feature) 512x32x32 /4', )),
    ZooPair(
        'mask2former-swin-t_mask2former-r50', 'segmentation',
        'mmseg::mask2former/mask2former_swin-t_8xb2-90k_cityscapes-512x1024.py',
        'mmseg::mask2former/mask2former_r50_8xb2-90k_cityscapes-512x1024.py',
        (Point('backbone', 'backbone[3]', 'backbone[3]'), ),
        'Mask2Former (query-based, its head needs the data samples): Swin-T teacher, R50 '
        'student, the last backbone stage (768 -> 2048 channels)',
        inspected=True, notes=(HEADLESS, )),
)


def find(pair_id: str) -> ZooPair:
    """The pair of that id."""
    for pair in ZOO_PAIRS:
        if pair.id == pair_id:
            return pair
    raise KeyError(pair_id)


def distill_config(pair: ZooPair, teacher_checkpoint: str,
                   probe_size: Optional[Tuple[int, int]] = None) -> str:
    """The distillation config of ``pair`` as a user writes it (RdimKD-R, k = :data:`K`)."""
    points = ''.join(f"""
        dict(
            name='{p.name}',
            student='{p.student}',
            teacher='{p.teacher}',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k={K}))),"""
                     for p in pair.points)
    probe = '' if probe_size is None else f'\n    probe_size={tuple(probe_size)},'
    covers = textwrap.fill(pair.covers, 98, initial_indent='# ', subsequent_indent='# ')
    return f"""# RdimKD-R, generated from tests/helpers/zoo_pairs.py ({pair.id}):
# teacher {pair.teacher}
# student {pair.student}
{covers}
_base_ = ['{pair.student}']

model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{pair.teacher}',
    teacher_checkpoint='{teacher_checkpoint}',{probe}
    distill=[{points}
    ])
# Fits PCA/autoencoder projections (and normalize='teacher' scales) before training: nothing
# for this default loss, kept to check that it runs after the student config's own hooks
# (YOLOX's, RTMDet's), which stay.
custom_hooks = [
    *_base_.get('custom_hooks', []),
    dict(type='rdimkd_mm.FitProjectionsHook', num_batches=50),
]
"""


def markdown_table() -> str:
    """The docs' table of the tested zoo pairs (header included), one row per pair."""
    rows = ['| task | teacher config | student config | distill points (student <- teacher) '
            '| what it covers |', '|---|---|---|---|---|']
    for pair in ZOO_PAIRS:
        points = '<br>'.join(
            f'`{p.student}`' if p.student == p.teacher else f'`{p.student}` <- `{p.teacher}`'
            for p in pair.points)
        if pair.inspected:
            points += ' (as proposed)'
        rows.append(f'| {pair.task} | `{pair.teacher}` | `{pair.student}` | {points} '
                    f'| {pair.covers} |')
    return '\n'.join(rows)


def markdown_rows() -> List[str]:
    """:func:`markdown_table` as a list of lines."""
    return markdown_table().splitlines()
