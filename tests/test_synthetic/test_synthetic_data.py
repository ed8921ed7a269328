import json
import os.path as osp
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthetic import (SYNTHETIC_COCO_CLASSES, generate_cityscapes_segmentation,
                       generate_coco_detection)
from helpers.paths import REPO_ROOT

CITYSCAPES_LABELS = set(range(19)) | {255}


def _det(out_dir: Path, seed: int = 0, num_train: int = 4, num_val: int = 2) -> dict:
    return generate_coco_detection(str(out_dir), num_train=num_train, num_val=num_val,
                                   seed=seed, image_size=(128, 160), progress=False)


def _seg(out_dir: Path, seed: int = 0, num_train: int = 3, num_val: int = 2) -> dict:
    return generate_cityscapes_segmentation(str(out_dir), num_train=num_train, num_val=num_val,
                                            seed=seed, image_size=(96, 192), progress=False)


def _read_tree(root: Path, pattern: str) -> dict:
    """Decoded images (unchanged flag) keyed by their relative path."""
    return {
        str(p.relative_to(root)): cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        for p in sorted(root.glob(pattern))
    }


def _assert_same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and a
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('det')
    _det(root)
    return root


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('seg')
    _seg(root)
    return root


def test_coco_layout_and_summary(tmp_path):
    summary = _det(tmp_path)
    assert summary['classes'] == SYNTHETIC_COCO_CLASSES
    for split, num in (('train', 4), ('val', 2)):
        info = summary[split]
        assert info['num_images'] == num
        assert info['num_annotations'] >= num
        assert info['ann_file'] == osp.join(
            str(tmp_path), 'annotations', f'instances_{split}.json')
        files = sorted(p.name for p in (tmp_path / split).glob('*.jpg'))
        assert files == [f'{i:06d}.jpg' for i in range(1, num + 1)]


def test_coco_determinism(tmp_path, det_root):
    _det(tmp_path / 'same')
    _det(tmp_path / 'other', seed=1)
    for split in ('train', 'val'):
        ann = f'annotations/instances_{split}.json'
        ref = (det_root / ann).read_bytes()
        assert (tmp_path / 'same' / ann).read_bytes() == ref
        assert (tmp_path / 'other' / ann).read_bytes() != ref
    _assert_same_arrays(
        _read_tree(det_root, '*/*.jpg'),
        _read_tree(tmp_path / 'same', '*/*.jpg'))
    other = _read_tree(tmp_path / 'other', 'train/*.jpg')
    assert not np.array_equal(
        other['train/000001.jpg'],
        _read_tree(det_root, 'train/*.jpg')['train/000001.jpg'])


def test_coco_prefix_stable(tmp_path, det_root):
    """Image i does not depend on the number of images of the split."""
    _det(tmp_path, num_train=2, num_val=1)
    small = _read_tree(tmp_path, '*/*.jpg')
    full = _read_tree(det_root, '*/*.jpg')
    _assert_same_arrays(small, {k: full[k] for k in small})


@pytest.mark.filterwarnings('ignore::DeprecationWarning')  # pycocotools
def test_coco_annotations_valid(det_root):
    from pycocotools.coco import COCO
    for split in ('train', 'val'):
        coco = COCO(str(det_root / 'annotations' / f'instances_{split}.json'))
        cats = coco.loadCats(coco.getCatIds())
        assert tuple(c['name'] for c in cats) == SYNTHETIC_COCO_CLASSES
        assert [c['id'] for c in cats
                ] == list(range(1,
                                len(SYNTHETIC_COCO_CLASSES) + 1))
        for img_id in coco.getImgIds():
            img = coco.loadImgs(img_id)[0]
            assert (img['height'], img['width']) == (128, 160)
            assert cv2.imread(str(det_root / split /
                                  img['file_name'])).shape == (128, 160, 3)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            assert 1 <= len(anns) <= 12
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert w > 0 and h > 0 and ann['area'] > 0
                assert x >= 0 and y >= 0
                assert x + w <= img['width'] and y + h <= img['height']
                assert ann['iscrowd'] == 0
                poly = np.array(ann['segmentation'][0]).reshape(-1, 2)
                assert len(poly) >= 3
                np.testing.assert_allclose(poly.min(0), [x, y], atol=0.02)
                mask = coco.annToMask(ann)
                assert mask.shape == (128, 160) and mask.any()


def test_coco_difficulty_options(tmp_path):
    """The benchmark's easier set: no small shapes, fewer shapes, upright solid shapes."""

    def boxes(root: Path, **options) -> list:
        generate_coco_detection(str(root), num_train=30, num_val=1, image_size=(128, 128),
                                progress=False, **options)
        data = json.loads((root / 'annotations' / 'instances_train.json').read_text())
        return data['annotations']

    default = boxes(tmp_path / 'default')
    easy = boxes(tmp_path / 'easy', max_objects=4, small_prob=0.0, max_distractors=0,
                 rotation=0.0, patterns=False)

    def long_side(ann: dict) -> float:
        return max(ann['bbox'][2:])

    # A shape's box is at least long_side / sqrt(2) wide (16 px: >= 11.3 px).
    assert min(map(long_side, default)) < 11 <= min(map(long_side, easy))
    per_image = np.bincount([a['image_id'] for a in easy])
    assert per_image.max() <= 4 < np.bincount([a['image_id'] for a in default]).max()
    # Upright rectangles fill their boxes; rotated ones do not.
    rect = SYNTHETIC_COCO_CLASSES.index('rectangle') + 1

    def fill(anns: list) -> np.ndarray:
        return np.array([a['area'] / (a['bbox'][2] * a['bbox'][3]) for a in anns
                         if a['category_id'] == rect])

    assert fill(easy).size and fill(easy).min() > 0.97 and fill(default).min() < 0.9


def test_mmdet_coco_dataset(det_root):
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules
    from mmengine.registry import init_default_scope
    register_all_modules(init_default_scope=True)
    init_default_scope('mmdet')
    dataset = CocoDataset(
        data_root=str(det_root),
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=SYNTHETIC_COCO_CLASSES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='PackDetInputs')
        ],
        test_mode=False)
    assert len(dataset) == 4
    assert dataset.metainfo['classes'] == SYNTHETIC_COCO_CLASSES
    for i in range(len(dataset)):
        sample = dataset[i]
        assert tuple(sample['inputs'].shape) == (3, 128, 160)
        gt = sample['data_samples'].gt_instances
        assert len(gt) >= 1
        assert ((gt.labels >= 0) &
                (gt.labels < len(SYNTHETIC_COCO_CLASSES))).all()


def test_cityscapes_layout_and_determinism(tmp_path, seg_root):
    summary = _seg(tmp_path / 'same')
    assert summary['train']['num_images'] == 3
    assert summary['val']['num_images'] == 2
    imgs = sorted(seg_root.glob('leftImg8bit/*/*/*_leftImg8bit.png'))
    labels = sorted(seg_root.glob('gtFine/*/*/*_gtFine_labelTrainIds.png'))
    assert len(imgs) == len(labels) == 5
    for img_path in imgs:
        stem = img_path.name[:-len('_leftImg8bit.png')]
        city, seq, frame = stem.split('_')
        assert img_path.parent.name == city
        assert len(seq) == len(frame) == 6
        img = cv2.imread(str(img_path), cv2.IMREAD_UNCHANGED)
        assert img.shape == (96, 192, 3) and img.dtype == np.uint8
    for label_path in labels:
        label = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
        assert label.shape == (96, 192) and label.dtype == np.uint8
        assert set(np.unique(label).tolist()) <= CITYSCAPES_LABELS
    _assert_same_arrays(
        _read_tree(seg_root, '*/*/*/*.png'),
        _read_tree(tmp_path / 'same', '*/*/*/*.png'))
    _seg(tmp_path / 'other', seed=1)
    other = _read_tree(tmp_path / 'other', 'leftImg8bit/*/*/*.png')
    ref = _read_tree(seg_root, 'leftImg8bit/*/*/*.png')
    assert other.keys() == ref.keys()
    assert not any(np.array_equal(other[k], ref[k]) for k in ref)


def test_mmseg_cityscapes_dataset(seg_root):
    from mmengine.registry import init_default_scope
    from mmseg.datasets import CityscapesDataset
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    init_default_scope('mmseg')
    dataset = CityscapesDataset(
        data_root=str(seg_root),
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    assert len(dataset) == 3
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]
        assert tuple(sample['inputs'].shape) == (3, 96, 192)
        seg = sample['data_samples'].gt_sem_seg.data.numpy()
        assert seg.shape == (1, 96, 192)
        values = set(np.unique(seg).tolist())
        assert values <= CITYSCAPES_LABELS
        seen |= values
    # Every scene has road and sky, but not only one class.
    assert {0, 10} <= seen and len(seen - {255}) >= 5


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_cli(tmp_path, task):
    out_dir = tmp_path / task
    result = subprocess.run([
        sys.executable, 'tools/make_synthetic_data.py', task,
        str(out_dir), '--num-train', '2', '--num-val', '1', '--seed', '3',
        '--image-size', '64', '128', '--no-progress'
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            check=True)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'{task}: ')
    if task == 'det':
        with open(out_dir / 'annotations' / 'instances_val.json') as f:
            coco = json.load(f)
        assert len(coco['images']) == 1
        assert coco['images'][0]['height'] == 64
        assert coco['images'][0]['width'] == 128
    else:
        labels = list(out_dir.glob('gtFine/train/*/*_labelTrainIds.png'))
        assert len(labels) == 2
        label = cv2.imread(str(labels[0]), cv2.IMREAD_UNCHANGED)
        assert label.shape == (64, 128)
