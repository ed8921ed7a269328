"""Deterministic synthetic object detection data in the COCO file format.

Each image shows 1-12 filled shapes on a cluttered background. The shapes
vary in size (down to ~8 px), aspect ratio, rotation, colour and texture and
may occlude each other; distractor blobs, lines and arcs are not annotated.
The classes differ only by their outline, never by their colour.

Layout written under ``out_dir``::

    annotations/instances_train.json
    annotations/instances_val.json
    train/000001.jpg ...
    val/000001.jpg ...
"""
import json
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import mkdir_or_exist, track_iter_progress

SYNTHETIC_COCO_CLASSES: Tuple[str, ...] = ('ellipse', 'rectangle', 'triangle',
                                           'star', 'ring', 'cross', 'hexagon',
                                           'crescent')

# Range of the (unrotated) width / height ratio per class.
_ASPECT_RANGES: Dict[str, Tuple[float, float]] = {
    'ellipse': (0.5, 2.0),
    'rectangle': (0.33, 3.0),
    'triangle': (0.6, 1.6),
    'star': (0.75, 1.33),
    'ring': (0.6, 1.6),
    'cross': (0.7, 1.4),
    'hexagon': (0.7, 1.4),
    'crescent': (0.7, 1.4),
}
_SPLIT_KEYS = {'train': 0, 'val': 1}
_SHIFT = 4  # sub-pixel bits for cv2 polygon drawing
_JPEG_QUALITY = 90


class _Shape(NamedTuple):
    """A transformed shape: outline (N, 2) float64 and optional hole."""

    label: int
    outline: np.ndarray
    hole: Optional[np.ndarray]


def _circle(num: int = 64) -> np.ndarray:
    """Unit circle polygon of shape (num, 2)."""
    t = np.linspace(0, 2 * np.pi, num, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _regular(num: int, radii: Sequence[float]) -> np.ndarray:
    """Star-like polygon with ``num * len(radii)`` vertices, shape (N, 2)."""
    n = num * len(radii)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) - np.pi / 2
    r = np.tile(np.asarray(radii, dtype=np.float64), num)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _crescent(rng: np.random.Generator) -> np.ndarray:
    """Unit circle minus an offset circle, as one polygon of shape (N, 2)."""
    d = rng.uniform(0.35, 0.6)
    r = rng.uniform(0.8, 0.95)
    x = (1 + d * d - r * r) / (2 * d)
    y = np.sqrt(1 - x * x)
    phi = np.arctan2(y, x)
    psi = np.arctan2(y, x - d)
    t_out = np.linspace(phi, 2 * np.pi - phi, 40)
    t_in = np.linspace(2 * np.pi - psi, psi, 32)[1:-1]
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([d + r * np.cos(t_in), r * np.sin(t_in)], axis=1)
    return np.concatenate([outer, inner])


def _unit_shape(
        name: str,
        rng: np.random.Generator) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Outline and optional hole of a class in [-1, 1]^2, shapes (N, 2)."""
    if name == 'ellipse':
        return _circle(), None
    if name == 'rectangle':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float), None
    if name == 'triangle':
        return np.array([[-1, 1], [1, 1], [rng.uniform(-0.7, 0.7), -1]]), None
    if name == 'star':
        return _regular(5, [1.0, rng.uniform(0.38, 0.5)]), None
    if name == 'ring':
        return _circle(), _circle() * rng.uniform(0.45, 0.7)
    if name == 'cross':
        t = rng.uniform(0.25, 0.4)
        return np.array([[-t, -1], [t, -1], [t, -t], [1, -t], [1, t], [t, t],
                         [t, 1], [-t, 1], [-t, t], [-1, t], [-1, -t],
                         [-t, -t]]), None
    if name == 'hexagon':
        return _regular(6, [1.0]), None
    if name == 'crescent':
        return _crescent(rng), None
    raise ValueError(f'unknown shape {name!r}')


def _sample_shape(rng: np.random.Generator, height: int, width: int,
                  small_prob: float, rotation: float) -> _Shape:
    """Sample a class, size, aspect ratio, rotation and a position inside
    the image; a share ``small_prob`` of the shapes is small (8-16 px) and
    the rotation is up to ``rotation`` x 360 degrees."""
    label = int(rng.integers(len(SYNTHETIC_COCO_CLASSES)))
    name = SYNTHETIC_COCO_CLASSES[label]
    outline, hole = _unit_shape(name, rng)
    if rng.random() < small_prob:
        long_side = rng.uniform(8, 16)
    else:
        max_side = 0.6 * min(height, width)
        long_side = np.exp(rng.uniform(np.log(16), np.log(max_side)))
    aspect = np.exp(rng.uniform(*np.log(_ASPECT_RANGES[name])))
    half = 0.5 * long_side * np.array([min(1.0, aspect), min(1.0, 1 / aspect)])
    theta = rng.uniform(0, 2 * np.pi * rotation)
    rot = np.array([[np.cos(theta), -np.sin(theta)],
                    [np.sin(theta), np.cos(theta)]])

    def transform(pts: np.ndarray) -> np.ndarray:
        return (pts * half) @ rot.T

    outline = transform(outline)
    lo, hi = outline.min(0), outline.max(0)
    size = np.array([width, height])
    # ``long_side`` <= 0.6 * min(H, W) so the rotated shape always fits.
    centre = rng.uniform(-lo, size - hi)
    hole = None if hole is None else transform(hole) + centre
    return _Shape(label, outline + centre, hole)


def _crop_box(pts: np.ndarray, height: int,
              width: int) -> Tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1) covering the points plus a 1 px margin."""
    x0, y0 = np.floor(pts.min(0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    return max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)


def _shape_alpha(shape: _Shape, box: Tuple[int, int, int, int]) -> np.ndarray:
    """Anti-aliased coverage of the shape in its crop, (h, w) uint8."""
    x0, y0, x1, y1 = box
    alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
    origin = np.array([x0, y0])

    def fixed(pts: np.ndarray) -> List[np.ndarray]:
        return [np.round((pts - origin) * (1 << _SHIFT)).astype(np.int32)]

    cv2.fillPoly(alpha, fixed(shape.outline), 255, cv2.LINE_AA, _SHIFT)
    if shape.hole is not None:
        cv2.fillPoly(alpha, fixed(shape.hole), 0, cv2.LINE_AA, _SHIFT)
    return alpha


def _texture(rng: np.random.Generator, h: int, w: int, avoid: np.ndarray,
             patterns: bool = True) -> np.ndarray:
    """Random solid/gradient/stripes/checker/noise texture, (h, w, 3)
    float32.

    The base colour is re-drawn a few times if it is too close to the
    ``avoid`` colour (3,) so that most objects stand out from the background.
    """
    colours = rng.uniform(0, 255, (4, 3))
    dists = np.linalg.norm(colours - avoid, axis=1)
    good = np.flatnonzero(dists > 60)
    c1 = colours[good[0] if good.size else int(dists.argmax())]
    c2 = np.clip(c1 + rng.normal(0, 70, 3), 0, 255)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    proj = xx * np.cos(angle) + yy * np.sin(angle)
    kind = int(rng.integers(5)) if patterns else 0
    if kind == 0:  # solid
        t = np.zeros((h, w), np.float32)
    elif kind == 1:  # linear gradient
        t = (proj - proj.min()) / max(float(np.ptp(proj)), 1.0)
    elif kind == 2:  # stripes
        period = rng.uniform(3, 10)
        t = (np.sin(2 * np.pi * proj / period) > 0).astype(np.float32)
    elif kind == 3:  # checker
        cell = rng.uniform(2, 8)
        t = ((xx // cell + yy // cell) % 2).astype(np.float32)
    else:  # blotchy noise
        t = rng.random((h, w), dtype=np.float32)
    tex = c1 + (c2 - c1) * t[..., None].astype(np.float32)
    tex += rng.normal(0, rng.uniform(2, 12), (h, w, 1)).astype(np.float32)
    return tex


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    """Gradient + low-frequency colour noise + pixel noise, (H, W, 3) uint8."""
    c1, c2 = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    proj = xx * np.cos(angle) + yy * np.sin(angle)
    t = (proj - proj.min()) / max(float(np.ptp(proj)), 1.0)
    img = c1 + (c2 - c1) * t[..., None]
    cells = rng.integers(3, 9, 2)
    low = rng.normal(0, rng.uniform(10, 40), (cells[0], cells[1], 3))
    img += cv2.resize(
        low.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.standard_normal((height, width, 1), np.float32)
    img += noise * rng.uniform(2, 10)
    return np.clip(img, 0, 255).astype(np.uint8)


def _random_colour(rng: np.random.Generator) -> Tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _draw_distractors(rng: np.random.Generator, img: np.ndarray,
                      num: int) -> None:
    """Draw unannotated lines, arcs and irregular blobs in place."""
    height, width = img.shape[:2]
    size = np.array([width, height])
    for _ in range(num):
        colour = _random_colour(rng)
        kind = int(rng.integers(3))
        if kind == 0:  # straight line or poly-line
            pts = rng.uniform(0, 1, (int(rng.integers(2, 5)), 2)) * size
            cv2.polylines(img, [pts.astype(np.int32)], False, colour,
                          int(rng.integers(1, 4)), cv2.LINE_AA)
        elif kind == 1:  # elliptic arc
            centre = tuple(int(v) for v in rng.uniform(0, 1, 2) * size)
            axes = tuple(int(v) for v in rng.uniform(4, 0.3 * size.min(), 2))
            start = rng.uniform(0, 360)
            cv2.ellipse(img, centre, axes, rng.uniform(0, 360), start,
                        start + rng.uniform(60, 240), colour,
                        int(rng.integers(1, 3)), cv2.LINE_AA)
        else:  # irregular blob
            n = int(rng.integers(7, 13))
            t = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = rng.uniform(3, 0.15 * size.min()) * rng.uniform(0.4, 1.0, n)
            centre = rng.uniform(0, 1, 2) * size
            pts = centre + np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
            cv2.fillPoly(img, [pts.astype(np.int32)], colour, cv2.LINE_AA)


def _coco_annotation(shape: _Shape, ann_id: int, image_id: int) -> dict:
    """COCO annotation of the full (amodal) outline of a shape."""
    pts = shape.outline
    x0, y0 = np.round(pts.min(0), 2)
    x1, y1 = np.round(pts.max(0), 2)
    area = cv2.contourArea(pts.astype(np.float32))
    if shape.hole is not None:
        area -= cv2.contourArea(shape.hole.astype(np.float32))
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=shape.label + 1,
        bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)],
        area=round(float(area), 2),
        iscrowd=0,
        segmentation=[[round(float(v), 2) for v in pts.reshape(-1)]])


def _render_image(rng: np.random.Generator,
                  height: int,
                  width: int,
                  max_objects: int = 12,
                  min_visible: float = 0.4,
                  small_prob: float = 0.3,
                  max_distractors: int = 8,
                  rotation: float = 1.0,
                  patterns: bool = True) -> Tuple[np.ndarray, List[_Shape]]:
    """Render one image and the shapes that are annotated in it.

    Shapes are sampled front to back; a shape is kept only if more than
    ``min_visible`` of its area is not covered by the kept shapes in front of
    it, so the topmost shape is always kept.

    Args:
        rng: Random generator of this image.
        height: Image height.
        width: Image width.
        max_objects: Maximum number of sampled shapes (at least 1).
        min_visible: Minimum visible fraction of a kept shape.
        small_prob: Share of small shapes (8-16 px long side).
        max_distractors: Maximum number of unannotated distractors drawn
            behind the shapes.
        rotation: Maximum rotation of a shape, in full turns.
        patterns: Whether shapes may be striped, chequered, graded or
            noisy (else solid colours with pixel noise).

    Returns:
        tuple: The BGR image (H, W, 3) uint8 and the kept shapes, back to
        front.
    """
    img = _background(rng, height, width)
    _draw_distractors(rng, img, int(rng.integers(0, max_distractors + 1)))
    covered = np.zeros((height, width), bool)
    kept = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        shape = _sample_shape(rng, height, width, small_prob, rotation)
        box = _crop_box(shape.outline, height, width)
        alpha = _shape_alpha(shape, box)
        x0, y0, x1, y1 = box
        inside = alpha > 127
        region = covered[y0:y1, x0:x1]
        num = int(inside.sum())
        if num == 0 or (inside & ~region).sum() <= min_visible * num:
            continue
        region |= inside
        kept.append((shape, box, alpha))
    for shape, (x0, y0, x1, y1), alpha in reversed(kept):
        crop = img[y0:y1, x0:x1].astype(np.float32)
        tex = _texture(rng, y1 - y0, x1 - x0, crop.reshape(-1, 3).mean(0),
                       patterns)
        a = alpha[..., None].astype(np.float32) / 255
        blended = crop + (tex - crop) * a
        img[y0:y1, x0:x1] = np.clip(blended, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:  # thin clutter over the objects
        _draw_distractors(rng, img, int(rng.integers(1, 3)))
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.0))
    return img, [shape for shape, _, _ in reversed(kept)]


def _generate_split(out_dir: str, split: str, num_images: int, seed: int,
                    image_size: Tuple[int, int], max_objects: int,
                    min_visible: float, progress: bool, **render) -> dict:
    """Write the images and the annotation file of one split."""
    height, width = image_size
    img_dir = osp.join(out_dir, split)
    mkdir_or_exist(img_dir)
    images, annotations = [], []
    indices = range(num_images)
    for i in track_iter_progress(indices) if progress else indices:
        rng = np.random.default_rng([seed, _SPLIT_KEYS[split], i])
        img, shapes = _render_image(rng, height, width, max_objects,
                                    min_visible, **render)
        image_id = i + 1
        file_name = f'{image_id:06d}.jpg'
        cv2.imwrite(
            osp.join(img_dir, file_name), img,
            [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        images.append(
            dict(id=image_id, file_name=file_name, height=height, width=width))
        for shape in shapes:
            annotations.append(
                _coco_annotation(shape,
                                 len(annotations) + 1, image_id))
    coco = dict(
        info=dict(
            description=f'rdimkd_mm synthetic shapes ({split})',
            version='1.0',
            year=2024,
            contributor='rdimkd_mm',
            date_created='2024-01-01'),
        licenses=[dict(id=1, name='CC0 1.0', url='')],
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(SYNTHETIC_COCO_CLASSES)
        ])
    ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    return dict(
        num_images=len(images),
        num_annotations=len(annotations),
        ann_file=ann_file,
        img_dir=img_dir)


def generate_coco_detection(out_dir: str,
                            num_train: int = 400,
                            num_val: int = 100,
                            seed: int = 0,
                            image_size: Tuple[int, int] = (256, 256),
                            max_objects: int = 12,
                            min_visible: float = 0.4,
                            small_prob: float = 0.3,
                            max_distractors: int = 8,
                            rotation: float = 1.0,
                            patterns: bool = True,
                            progress: bool = True) -> dict:
    """Generate a synthetic shape detection dataset in the COCO format.

    Image ``i`` of a split only depends on ``seed``, the split and ``i``, so
    a larger set extends a smaller one with the same seed.

    Args:
        out_dir: Output root, created if needed.
        num_train: Number of training images.
        num_val: Number of validation images.
        seed: Random seed.
        image_size: Image (height, width).
        max_objects: Maximum number of shapes sampled per image; every image
            keeps at least one.
        min_visible: A shape partly hidden by the shapes above it is
            annotated and drawn only if more than this fraction is visible.
        small_prob: Share of small shapes (8-16 px long side); the others
            are 16 px to 0.6 x the image's short side.
        max_distractors: Maximum number of unannotated lines, arcs and blobs
            drawn behind the shapes.
        rotation: Maximum rotation of a shape, in full turns (0: upright).
        patterns: Whether shapes may be striped, chequered, graded or
            noisy; else solid colours with pixel noise.
        progress: Whether to show a progress bar.

    Returns:
        dict: ``root``, ``classes`` and per split (``train``, ``val``)
        ``num_images``, ``num_annotations``, ``ann_file`` and ``img_dir``.
    """
    mkdir_or_exist(osp.join(out_dir, 'annotations'))
    summary = dict(root=out_dir, classes=SYNTHETIC_COCO_CLASSES)
    for split, num in (('train', num_train), ('val', num_val)):
        summary[split] = _generate_split(out_dir, split, num, seed,
                                         tuple(image_size), max_objects,
                                         min_visible, progress,
                                         small_prob=small_prob,
                                         max_distractors=max_distractors,
                                         rotation=rotation, patterns=patterns)
    return summary


def to_coco2017_layout(root: str) -> dict:
    """Rename a set from :func:`generate_coco_detection` into the COCO 2017 layout that the
    shipped COCO configs read (``data/coco``)::

        annotations/instances_train2017.json, annotations/instances_val2017.json
        train2017/000001.jpg ..., val2017/000001.jpg ...

    The files list mmdet's 80 COCO classes as categories 1-80; the shapes keep their ids 1-8,
    so they become the first eight (person, bicycle, ..., truck), and mmdet's CocoDataset and
    CocoMetric accept the set as COCO.

    Returns:
        dict: per split, its ``ann_file`` and ``img_dir``.
    """
    import os

    from mmdet.datasets import CocoDataset
    categories = [dict(id=i + 1, name=name, supercategory='object')
                  for i, name in enumerate(CocoDataset.METAINFO['classes'])]
    summary = {}
    for split in ('train', 'val'):
        old = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(old) as f:
            coco = json.load(f)
        coco['categories'] = categories
        ann_file = osp.join(root, 'annotations', f'instances_{split}2017.json')
        with open(ann_file, 'w') as f:
            json.dump(coco, f)
        os.remove(old)
        img_dir = osp.join(root, f'{split}2017')
        os.replace(osp.join(root, split), img_dir)
        summary[split] = dict(ann_file=ann_file, img_dir=img_dir)
    return summary
