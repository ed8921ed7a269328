"""Deterministic synthetic street scenes in the Cityscapes file format.

Every scene is rendered through a pinhole camera looking down a street:
sky, a distant skyline, a multi-lane road with markings, sidewalks, facades
with windows or open land with fences and walls, trees, poles with traffic
signs and lights, cars, trucks, buses, pedestrians and (motor)cyclists.
Labels are Cityscapes train IDs (0-18); the ego-vehicle hood and an
occasional thin out-of-ROI frame are 255 (ignore).

Layout written under ``out_dir`` (as expected by mmseg's
``CityscapesDataset``)::

    leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
"""
import os.path as osp
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import mkdir_or_exist, track_iter_progress

# Cityscapes train IDs.
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN = range(8)
VEGETATION, TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK, BUS = range(8, 16)
MOTORCYCLE, BICYCLE, IGNORE = 17, 18, 255

_CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', 'munster')}
_SPLIT_KEYS = {'train': 0, 'val': 1}
_FRAME = 19  # Cityscapes annotates the 20th frame of every snippet
_SHIFT = 4  # sub-pixel bits for cv2 polygon drawing

Colour = Tuple[float, float, float]
_Drawable = Tuple[float, Callable[['_Painter'], None]]


def _fixed(pt: Sequence[float]) -> Tuple[int, int]:
    """Pixel point in the fixed-point format of cv2 drawing with _SHIFT."""
    return tuple(int(round(v * (1 << _SHIFT))) for v in pt)


def _lut(values: dict, default: float) -> np.ndarray:
    """Per-label lookup table of shape (256,) float32."""
    table = np.full(256, default, np.float32)
    for label, value in values.items():
        table[label] = value
    return table


# Strength of the pixel noise and of the blotchy shading per label.
_NOISE = _lut({VEGETATION: 14, TERRAIN: 10, ROAD: 6, SIDEWALK: 5, SKY: 2}, 4)
_BLOTCH = _lut(
    {
        VEGETATION: 0.35,
        TERRAIN: 0.2,
        ROAD: 0.08,
        SIDEWALK: 0.08,
        BUILDING: 0.1
    }, 0.05)


class _Camera(NamedTuple):
    """Pinhole camera at (0, height, 0) looking along +Z, Y pointing up."""

    focal: float
    cx: float
    horizon: float
    height: float

    def project(self, pts: np.ndarray) -> np.ndarray:
        """Project (N, 3) world points (X, Y, Z) to (N, 2) pixels (u, v)."""
        pts = np.asarray(pts, dtype=np.float64)
        z = pts[:, 2]
        u = self.cx + self.focal * pts[:, 0] / z
        v = self.horizon + self.focal * (self.height - pts[:, 1]) / z
        return np.stack([u, v], axis=1)


class _Layout(NamedTuple):
    """Street geometry in metres; ``left``/``right`` are X coordinates."""

    road_left: float
    road_right: float
    lane_width: float
    num_lanes: int
    ego_lane: int
    walk_left: float  # outer edge of the left sidewalk
    walk_right: float
    facade_left: float  # building line / fence line
    facade_right: float
    far: float  # depth of the skyline


class _Painter:
    """Draws the same primitives into an RGB image and a label map.

    A ``None`` colour leaves the image untouched (the primitive only sets
    labels) and a ``None`` label leaves the label map untouched (texture).

    Args:
        img: RGB image (H, W, 3) uint8, drawn in place.
        label: Train-ID map (H, W) uint8, drawn in place.
        camera: Camera used by the ``*3d`` methods.
    """

    def __init__(self, img: np.ndarray, label: np.ndarray,
                 camera: _Camera) -> None:
        self.img = img
        self.label = label
        self.camera = camera

    def _both(self, colour: Optional[Colour], cls: Optional[int],
              draw: Callable[[np.ndarray, object], None]) -> None:
        if colour is not None:
            draw(self.img, tuple(int(np.clip(c, 0, 255)) for c in colour))
        if cls is not None:
            draw(self.label, int(cls))

    def poly(self, pts: np.ndarray, colour: Optional[Colour],
             cls: Optional[int]) -> None:
        """Fill a polygon (N, 2) or several (K, N, 2) given in pixels."""
        pts = np.asarray(pts, dtype=np.float64)
        polys = pts[None] if pts.ndim == 2 else pts
        fixed = [np.round(p * (1 << _SHIFT)).astype(np.int32) for p in polys]
        self._both(
            colour, cls,
            lambda dst, c: cv2.fillPoly(dst, fixed, c, cv2.LINE_8, _SHIFT))

    def poly3d(self, pts: np.ndarray, colour: Optional[Colour],
               cls: Optional[int]) -> None:
        """Fill polygons given as (N, 3) or (K, N, 3) world points."""
        pts = np.asarray(pts, dtype=np.float64)
        flat = self.camera.project(pts.reshape(-1, 3))
        self.poly(flat.reshape(pts.shape[:-1] + (2, )), colour, cls)

    def circle(self,
               centre: Sequence[float],
               radius: float,
               colour: Optional[Colour],
               cls: Optional[int],
               thickness: int = -1) -> None:
        """Draw a circle in pixels (filled if ``thickness`` is -1)."""
        c = _fixed(centre)
        r = max(int(round(radius * (1 << _SHIFT))), 1 << _SHIFT)
        self._both(
            colour, cls, lambda dst, col: cv2.circle(dst, c, r, col, thickness,
                                                     cv2.LINE_8, _SHIFT))

    def line(self, p0: Sequence[float], p1: Sequence[float], width: float,
             colour: Optional[Colour], cls: Optional[int]) -> None:
        """Draw a line segment in pixels at least 1 px wide."""
        a, b = _fixed(p0), _fixed(p1)
        thickness = max(int(round(width)), 1)
        self._both(
            colour, cls, lambda dst, col: cv2.line(dst, a, b, col, thickness,
                                                   cv2.LINE_8, _SHIFT))

    def box3d(self, x: Tuple[float, float], y: Tuple[float, float],
              z: Tuple[float, float], colour: Colour, cls: int) -> None:
        """Draw the camera-facing faces of an axis-aligned box."""
        (x0, x1), (y0, y1), (z0, z1) = x, y, z
        faces = []
        if y1 < self.camera.height:
            faces.append(([(x0, y1, z0), (x1, y1, z0), (x1, y1, z1),
                           (x0, y1, z1)], 1.1))
        if x0 > 0:
            faces.append(([(x0, y0, z0), (x0, y0, z1), (x0, y1, z1),
                           (x0, y1, z0)], 0.75))
        if x1 < 0:
            faces.append(([(x1, y0, z0), (x1, y0, z1), (x1, y1, z1),
                           (x1, y1, z0)], 0.75))
        faces.append(([(x0, y0, z0), (x1, y0, z0), (x1, y1, z0),
                       (x0, y1, z0)], 1.0))
        for face, shade in faces:
            self.poly3d(np.array(face), _shade(colour, shade), cls)


def _shade(colour: Colour, factor: float) -> Colour:
    """Scale a colour's brightness."""
    return tuple(float(np.clip(c * factor, 0, 255)) for c in colour)


def _jitter(rng: np.random.Generator,
            colour: Colour,
            amount: float = 20) -> Colour:
    """Add Gaussian noise of std ``amount`` to a colour."""
    return tuple(
        float(np.clip(c + rng.normal(0, amount), 0, 255)) for c in colour)


def _pick(rng: np.random.Generator,
          palette: Sequence[Colour],
          amount: float = 15) -> Colour:
    """Jittered random colour of a palette."""
    return _jitter(rng, palette[int(rng.integers(len(palette)))], amount)


_SKY_TOPS = ((70, 120, 200), (150, 160, 170), (90, 100, 160), (60, 140, 220))
_SKY_LOWS = ((170, 200, 235), (200, 200, 205), (235, 170, 120), (190, 215,
                                                                 240))
_FACADES = ((180, 170, 150), (150, 150, 150), (160, 90, 70), (210, 200, 180),
            (120, 110, 100), (200, 180, 140), (100, 110, 120))
_GREENS = ((60, 100, 40), (40, 80, 30), (90, 120, 50), (50, 90, 60))
_TERRAINS = ((120, 140, 70), (140, 130, 90), (100, 120, 60))
_CAR_PAINTS = ((200, 200, 200), (30, 30, 35), (150, 20, 20), (20, 50, 120),
               (120, 120, 125), (230, 230, 230), (60, 90, 60), (180, 150, 40))
_TRUCK_PAINTS = ((220, 220, 220), (40, 70, 140), (150, 40, 30))
_BUS_PAINTS = ((230, 200, 40), (200, 30, 30), (30, 90, 160), (230, 230, 230))
_CLOTHES = ((30, 30, 40), (150, 30, 30), (40, 60, 120), (200, 200, 200),
            (90, 70, 50), (60, 100, 60), (200, 160, 60), (120, 120, 120))
_SKINS = ((230, 190, 160), (190, 140, 100), (120, 80, 50), (250, 215, 185))


def _sample_camera(rng: np.random.Generator, height: int,
                   width: int) -> _Camera:
    """Random focal length, principal point, horizon and height."""
    return _Camera(
        focal=width * rng.uniform(0.7, 0.95),
        cx=width * rng.uniform(0.4, 0.6),
        horizon=height * rng.uniform(0.36, 0.5),
        height=rng.uniform(1.3, 1.7))


def _sample_layout(rng: np.random.Generator) -> _Layout:
    """Random lanes, sidewalks and building lines around the camera."""
    lane_width = rng.uniform(3.0, 3.7)
    num_lanes = int(rng.integers(2, 5))
    ego_lane = int(rng.integers(num_lanes))
    left = -(ego_lane + rng.uniform(0.3, 0.7)) * lane_width
    right = left + num_lanes * lane_width
    walk_left = left - rng.uniform(1.5, 4.5)
    walk_right = right + rng.uniform(1.5, 4.5)
    return _Layout(left, right, lane_width, num_lanes, ego_lane, walk_left,
                   walk_right, walk_left - rng.uniform(0, 4),
                   walk_right + rng.uniform(0, 4), rng.uniform(120, 220))


def _draw_sky(p: _Painter, rng: np.random.Generator) -> None:
    """Vertical gradient with soft clouds, label everything sky."""
    height, width = p.label.shape
    top = np.array(_pick(rng, _SKY_TOPS), np.float32)
    low = np.array(_pick(rng, _SKY_LOWS), np.float32)
    horizon = max(p.camera.horizon, 1.0)
    t = np.clip(np.arange(height, dtype=np.float32) / horizon, 0, 1)
    sky = top + (low - top) * t[:, None, None]
    cells = rng.normal(0, 1, (3, int(rng.integers(4, 10)))).astype(np.float32)
    clouds = cv2.resize(cells, (width, height), interpolation=cv2.INTER_CUBIC)
    cover = np.clip(clouds - rng.uniform(-0.5, 1.0), 0, 1)[..., None]
    sky = sky + (rng.uniform(210, 250) - sky) * cover * rng.uniform(0.3, 0.9)
    p.img[:] = np.clip(sky, 0, 255).astype(np.uint8)
    p.label[:] = SKY


def _ground_quad(x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    """Ground rectangle [x0, x1] x [z0, z1] as (4, 3) world points."""
    return np.array([(x0, 0, z0), (x1, 0, z0), (x1, 0, z1), (x0, 0, z1)])


def _draw_ground(p: _Painter, rng: np.random.Generator, lay: _Layout) -> None:
    """Terrain, road with markings, sidewalks with kerbs and tiles."""
    near, far = 0.5, lay.far
    top = int(np.ceil(p.camera.horizon))
    terrain = _pick(rng, _TERRAINS)
    p.img[top:] = np.array(terrain, np.uint8)
    p.label[top:] = TERRAIN
    walk = _pick(rng, ((170, 165, 160), (150, 140, 140), (185, 170, 150)))
    for x0, x1 in ((lay.walk_left, lay.road_left), (lay.road_right,
                                                    lay.walk_right)):
        p.poly3d(_ground_quad(x0, x1, near, far), walk, SIDEWALK)
        for z in np.arange(rng.uniform(1, 2), 40, rng.uniform(1.2, 2.5)):
            p.poly3d(
                _ground_quad(x0, x1, z, z + 0.05), _shade(walk, 0.8), None)
    kerb = _shade(walk, 1.15)
    p.poly3d(
        _ground_quad(lay.road_left - 0.15, lay.road_left, near, far), kerb,
        SIDEWALK)
    p.poly3d(
        _ground_quad(lay.road_right, lay.road_right + 0.15, near, far), kerb,
        SIDEWALK)
    asphalt = _pick(rng, ((90, 90, 95), (110, 108, 105), (70, 72, 75)))
    p.poly3d(
        _ground_quad(lay.road_left, lay.road_right, near, far), asphalt, ROAD)
    paint = _pick(rng, ((235, 235, 230), (230, 210, 120)), 8)
    for k in range(1, lay.num_lanes):
        x = lay.road_left + k * lay.lane_width
        start = rng.uniform(0, 9)
        dashes = [
            _ground_quad(x - 0.07, x + 0.07, z, z + 3)
            for z in np.arange(near + start, far, 9.0)
        ]
        p.poly3d(np.array(dashes), paint, None)
    if rng.random() < 0.2:  # zebra crossing
        z0 = rng.uniform(8, 25)
        stripes = [
            _ground_quad(x, x + 0.5, z0, z0 + 3)
            for x in np.arange(lay.road_left + 0.3, lay.road_right, 1.0)
        ]
        p.poly3d(np.array(stripes), paint, None)


def _draw_skyline(p: _Painter, rng: np.random.Generator, lay: _Layout) -> None:
    """Distant buildings and tree lines at depth ``lay.far``."""
    z = lay.far
    x = -z
    while x < z:
        w = rng.uniform(8, 35)
        if rng.random() < 0.65:
            h = rng.uniform(8, 45)
            quad = [(x, 0, z), (x + w, 0, z), (x + w, h, z), (x, h, z)]
            p.poly3d(np.array(quad), _pick(rng, _FACADES, 25), BUILDING)
        else:  # a tree line of discs that stay above the ground
            h = rng.uniform(6, 15)
            scale = p.camera.focal / z
            for _ in range(4):
                cy = rng.uniform(0.4, 0.8) * h
                centre = p.camera.project([(x + rng.uniform(0, w), cy, z)])[0]
                p.circle(centre,
                         rng.uniform(0.6, 1.0) * cy * scale,
                         _pick(rng, _GREENS), VEGETATION)
        x += w + (rng.uniform(0, 20) if rng.random() < 0.3 else 0)


def _draw_windows(p: _Painter, rng: np.random.Generator,
                  origin: Sequence[float], along: Sequence[float],
                  length: float, height: float) -> None:
    """Texture a vertical facade with a grid of windows (image only).

    The facade spans ``origin + a * along + (0, b, 0)`` for a in
    [0, length] and b in [0, height] (world metres).
    """
    pitch_a, pitch_b = rng.uniform(2.5, 4.5), rng.uniform(2.8, 3.6)
    win_a = pitch_a * rng.uniform(0.35, 0.6)
    win_b = pitch_b * rng.uniform(0.35, 0.6)
    a_s = np.arange(0.5 * (pitch_a - win_a), length - win_a, pitch_a)
    b_s = np.arange(rng.uniform(1.0, 2.0), height - win_b, pitch_b)
    if not len(a_s) or not len(b_s):
        return
    aa, bb = (g.ravel()[:, None, None] for g in np.meshgrid(a_s, b_s))
    corners = np.array([(0, 0), (win_a, 0), (win_a, win_b), (0, win_b)])
    quads = (
        np.asarray(origin, float) +
        (aa + corners[:, 0, None]) * np.asarray(along, float) +
        (bb + corners[:, 1, None]) * np.array([0.0, 1.0, 0.0]))
    pix = p.camera.project(quads.reshape(-1, 3)).reshape(-1, 4, 2)
    quads = quads[np.abs(pix[:, 0] - pix[:, 2]).min(1) >= 1.0]
    lit = rng.random(len(quads)) < rng.uniform(0, 0.4)
    glass = _pick(rng, ((40, 50, 60), (70, 90, 110), (30, 30, 30)))
    light = _pick(rng, ((220, 210, 150), (200, 220, 230)))
    for mask, colour in ((~lit, glass), (lit, light)):
        if mask.any():
            p.poly3d(quads[mask], colour, None)


def _draw_side(p: _Painter, rng: np.random.Generator, lay: _Layout,
               sign: int) -> List[_Drawable]:
    """Draw one street side (``sign`` -1: left, +1: right).

    Either a row of buildings along the facade line or open land behind a
    fence or wall; the strip between sidewalk and facade line is terrain or
    a hedge. Returns the trees of this side for depth-sorted drawing.
    """
    walk = lay.walk_left if sign < 0 else lay.walk_right
    facade = lay.facade_left if sign < 0 else lay.facade_right
    if abs(facade - walk) > 0.3:
        p.poly3d(
            _ground_quad(min(walk, facade), max(walk, facade), 0.5, lay.far),
            _pick(rng, _TERRAINS), TERRAIN)
        if rng.random() < 0.4:
            x = sorted((walk, walk + sign * 0.8))
            p.box3d(x, (0, rng.uniform(0.6, 1.4)),
                    (rng.uniform(1, 10), rng.uniform(20, 60)),
                    _pick(rng, _GREENS), VEGETATION)
    if rng.random() < 0.75:
        z = rng.uniform(1, 15)
        while z < lay.far * 0.6:
            length = rng.uniform(8, 35)
            height = rng.uniform(6, 28)
            colour = _pick(rng, _FACADES, 25)
            x_back = facade + sign * 15
            front = [(facade, 0, z), (x_back, 0, z), (x_back, height, z),
                     (facade, height, z)]
            p.poly3d(np.array(front), _shade(colour, 0.85), BUILDING)
            _draw_windows(p, rng, (facade, 0, z), (sign, 0, 0), 15, height)
            side = [(facade, 0, z), (facade, 0, z + length),
                    (facade, height, z + length), (facade, height, z)]
            p.poly3d(np.array(side), colour, BUILDING)
            _draw_windows(p, rng, (facade, 0, z), (0, 0, 1), length, height)
            z += length + (rng.uniform(3, 15) if rng.random() < 0.2 else 0)
    elif rng.random() < 0.7:
        cls = FENCE if rng.random() < 0.5 else WALL
        z0, z1 = rng.uniform(1, 10), rng.uniform(30, 120)
        top = rng.uniform(0.8, 2.0)
        colour = _pick(rng, ((120, 100, 80), (150, 150, 145), (90, 90, 95)))
        p.poly3d(
            np.array([(facade, 0, z0), (facade, 0, z1), (facade, top, z1),
                      (facade, top, z0)]), colour, cls)
        if cls == FENCE:
            posts = [[(facade, 0, z), (facade, 0, z + 0.1),
                      (facade, top, z + 0.1), (facade, top, z)]
                     for z in np.arange(z0, z1, rng.uniform(1.5, 3))]
            p.poly3d(np.array(posts), _shade(colour, 0.6), None)
    return [(z, _tree_drawer(rng, (walk + facade) / 2 + rng.normal(0, 0.3), z))
            for z in np.arange(rng.uniform(4, 20), 80, rng.uniform(8, 25))
            if rng.random() < 0.6]


def _tree_drawer(rng: np.random.Generator, x: float,
                 z: float) -> Callable[[_Painter], None]:
    """A tree at ground point (x, 0, z): trunk and a crown of discs."""
    trunk_h, radius = rng.uniform(2.2, 4.0), rng.uniform(1.2, 3.0)
    # crown blobs stay above ~1.6 m so that they do not cover the street
    blobs = rng.uniform([-0.8, -0.4], [0.8, 1.0],
                        (int(rng.integers(4, 9)), 2)) * radius
    sizes = rng.uniform(0.5, 0.8, len(blobs)) * radius
    colours = [_pick(rng, _GREENS) for _ in blobs]
    bark = _pick(rng, ((80, 60, 40), (100, 90, 70)))

    def draw(p: _Painter) -> None:
        p.poly3d(
            np.array([(x - 0.15, 0, z), (x + 0.15, 0, z),
                      (x + 0.15, trunk_h + radius, z),
                      (x - 0.15, trunk_h + radius, z)]), bark, VEGETATION)
        scale = p.camera.focal / z
        centre = p.camera.project([(x, trunk_h + radius, z)])[0]
        for (dx, dy), r, colour in zip(blobs, sizes, colours):
            p.circle(centre + np.array([dx, -dy]) * scale, r * scale, colour,
                     VEGETATION)

    return draw


def _vehicle_drawer(rng: np.random.Generator, x: float, z: float,
                    cls: int) -> Tuple[float, Callable[[_Painter], None]]:
    """A car, truck or bus seen from behind or the front; returns its
    length."""
    if cls == CAR:
        width, length = rng.uniform(1.6, 1.95), rng.uniform(3.6, 4.9)
        body, cabin_h = (0.3, rng.uniform(0.9, 1.1)), rng.uniform(0.4, 0.65)
        paint = _pick(rng, _CAR_PAINTS, 20)
    elif cls == TRUCK:
        width, length = 2.45, rng.uniform(6, 10)
        body, cabin_h = (0.5, rng.uniform(2.8, 3.8)), 0.0
        paint = _pick(rng, _TRUCK_PAINTS)
    else:
        width, length = 2.55, rng.uniform(11, 13)
        body, cabin_h = (0.3, rng.uniform(2.9, 3.3)), 0.0
        paint = _pick(rng, _BUS_PAINTS)
    x0, x1 = x - width / 2, x + width / 2
    glass = _pick(rng, ((30, 35, 45), (60, 70, 85)), 10)
    lamp = (220, 30, 30) if rng.random() < 0.6 else (240, 240, 210)

    def draw(p: _Painter) -> None:
        shadow = _ground_quad(x0 - 0.2, x1 + 0.2, z - 0.2, z + length)
        p.poly3d(shadow, (25, 25, 28), None)
        side_x = x0 if x0 > 0 else x1 if x1 < 0 else None
        if side_x is not None:
            for zc in (z + 0.8, z + length - 0.9):
                t = np.linspace(0, 2 * np.pi, 16)
                wheel = np.stack([
                    np.full_like(t, side_x), 0.35 + 0.35 * np.sin(t),
                    zc + 0.35 * np.cos(t)
                ], 1)
                p.poly3d(wheel, (20, 20, 20), cls)
        for wx in ((x0, x0 + 0.3), (x1 - 0.3, x1)):
            p.box3d(wx, (0, body[0] + 0.1), (z, z + 0.3), (20, 20, 20), cls)
        p.box3d((x0, x1), body, (z, z + length), paint, cls)
        if cabin_h:
            cabin = (x0 + 0.12, x1 - 0.12), (body[1], body[1] + cabin_h)
            p.box3d(*cabin, (z + 0.7, z + length - 0.9), paint, cls)
            inset = [(cabin[0][0] + 0.08, cabin[1][0] + 0.05, z + 0.7),
                     (cabin[0][1] - 0.08, cabin[1][0] + 0.05, z + 0.7),
                     (cabin[0][1] - 0.12, cabin[1][1] - 0.06, z + 0.7),
                     (cabin[0][0] + 0.12, cabin[1][1] - 0.06, z + 0.7)]
            p.poly3d(np.array(inset), glass, None)
        else:  # rear / front window of a truck or bus
            y0 = body[1] * 0.55
            p.poly3d(
                np.array([(x0 + 0.2, y0, z), (x1 - 0.2, y0, z),
                          (x1 - 0.2, body[1] - 0.25, z),
                          (x0 + 0.2, body[1] - 0.25, z)]), glass, None)
        ly = body[0] + 0.45
        for lx in ((x0 + 0.1, x0 + 0.35), (x1 - 0.35, x1 - 0.1)):
            p.poly3d(
                np.array([(lx[0], ly, z),
                          (lx[1], ly, z), (lx[1], ly + 0.15, z),
                          (lx[0], ly + 0.15, z)]), lamp, None)

    return length, draw


def _person_shapes(rng: np.random.Generator, height: float) -> List[Tuple]:
    """Body parts of a standing / walking person in metres.

    Returns (kind, geometry, colour) items with x to the right and y up from
    the feet; kinds are ``poly`` (N, 2), ``line`` (p0, p1, width) and
    ``circle`` (centre, radius[, ring width]).
    """
    h = height
    top, bottom = _pick(rng, _CLOTHES), _pick(rng, _CLOTHES)
    skin = _pick(rng, _SKINS, 10)
    hair = _pick(rng, ((30, 25, 20), (90, 60, 30)))
    stride = rng.uniform(0, 0.22) * h
    hip, shoulder = 0.52 * h, 0.82 * h
    parts = [
        ('poly', [(-0.1 * h, hip), (0.0, hip), (-stride / 2 + 0.04 * h, 0),
                  (-stride / 2 - 0.04 * h, 0)], bottom),
        ('poly', [(0.0, hip), (0.1 * h, hip), (stride / 2 + 0.04 * h, 0),
                  (stride / 2 - 0.04 * h, 0)], bottom),
        ('poly', [(-0.13 * h, shoulder), (0.13 * h, shoulder),
                  (0.1 * h, hip - 0.03 * h), (-0.1 * h, hip - 0.03 * h)], top),
    ]
    swing = rng.uniform(-0.08, 0.08) * h
    for side in (-1, 1):
        parts.append(
            ('line', ((side * 0.12 * h, shoulder - 0.02 * h),
                      (side * 0.15 * h + swing, 0.47 * h), 0.05 * h), top))
    parts.append(('circle', ((0.0, 0.92 * h), 0.065 * h), skin))
    parts.append(('circle', ((0.0, 0.945 * h), 0.055 * h), hair))
    return parts


def _draw_parts(p: _Painter, parts: List[Tuple], origin: np.ndarray,
                scale: float, mirror: float, cls: int) -> None:
    """Draw 2D parts in metres placed at pixel ``origin`` (feet)."""

    def to_px(pt: Sequence[float]) -> np.ndarray:
        return origin + np.array([mirror * pt[0], -pt[1]]) * scale

    for kind, geom, colour in parts:
        if kind == 'poly':
            p.poly(np.array([to_px(pt) for pt in geom]), colour, cls)
        elif kind == 'line':
            p.line(
                to_px(geom[0]), to_px(geom[1]), geom[2] * scale, colour, cls)
        else:  # filled circle or, with a third item, a ring of that width
            width = geom[2] * scale if len(geom) > 2 else None
            p.circle(
                to_px(geom[0]), geom[1] * scale, colour, cls,
                -1 if width is None else max(int(round(width)), 1))


def _person_drawer(rng: np.random.Generator, x: float,
                   z: float) -> Callable[[_Painter], None]:
    """A pedestrian standing at ground point (x, 0, z)."""
    parts = _person_shapes(rng, rng.uniform(1.5, 1.95))

    def draw(p: _Painter) -> None:
        origin = p.camera.project([(x, 0, z)])[0]
        _draw_parts(p, parts, origin, p.camera.focal / z, 1.0, PERSON)

    return draw


def _cycle_drawer(rng: np.random.Generator, x: float, z: float,
                  ridden: bool) -> Callable[[_Painter], None]:
    """A bicycle or motorcycle seen from the side, optionally ridden."""
    motor = ridden and rng.random() < 0.35
    cls = MOTORCYCLE if motor else BICYCLE
    frame = _pick(rng, _CAR_PAINTS if motor else _CLOTHES)
    r = 0.33
    rear, front, crank = (-0.52, r), (0.52, r), (0.0, 0.3)
    seat, bar = (-0.18, 0.9), (0.4, 1.0)
    parts = [('circle', (c, r, 0.07 if motor else 0.035), (25, 25, 25))
             for c in (rear, front)]
    parts += [('line', (a, b, 0.04), frame)
              for a, b in ((rear, crank), (crank, seat), (seat, bar),
                           (crank, bar), (rear, seat), (bar, front))]
    if motor:
        parts.append(('poly', [(-0.45, 0.45), (0.35, 0.45), (0.45, 0.85),
                               (-0.3, 0.95)], frame))
    rider = []
    if ridden:
        top = _pick(rng, _CLOTHES)
        hip, shoulder, head = (-0.15, 0.98), (0.12, 1.5), (0.2, 1.68)
        rider = [('line', (hip, crank, 0.12), _pick(rng, _CLOTHES)),
                 ('line', (hip, shoulder, 0.3), top),
                 ('line', (shoulder, bar, 0.08), top),
                 ('circle', (head, 0.11), _pick(rng, _SKINS, 10))]
    mirror = 1.0 if rng.random() < 0.5 else -1.0

    def draw(p: _Painter) -> None:
        origin = p.camera.project([(x, 0, z)])[0]
        scale = p.camera.focal / z
        _draw_parts(p, parts, origin, scale, mirror, cls)
        if rider:
            _draw_parts(p, rider, origin, scale, mirror, RIDER)

    return draw


def _pole_drawer(rng: np.random.Generator, x: float,
                 z: float) -> Callable[[_Painter], None]:
    """A pole with a traffic sign, a traffic light or a street lamp arm."""
    height, width = rng.uniform(3.5, 8), rng.uniform(0.12, 0.25)
    metal = _pick(rng, ((110, 110, 110), (60, 70, 65), (160, 160, 155)))
    kind = rng.choice(['sign', 'light', 'lamp', 'plain'], p=[.4, .3, .2, .1])
    sign_y = rng.uniform(2.0, min(3.0, height - 0.3))
    sign_shape = int(rng.integers(3))
    sign_colour = _pick(rng, ((200, 30, 30), (30, 80, 180), (230, 200, 40)),
                        10)
    lamp_on = int(rng.integers(3))
    arm = -np.sign(x) * rng.uniform(1.0, 3.0)

    def draw(p: _Painter) -> None:
        p.poly3d(
            np.array([(x - width / 2, 0, z), (x + width / 2, 0, z),
                      (x + width / 2, height, z), (x - width / 2, height, z)]),
            metal, POLE)
        scale = p.camera.focal / z
        if kind == 'sign':
            centre = p.camera.project([(x, sign_y, z)])[0]
            r = 0.32 * scale
            if sign_shape == 0:
                p.circle(centre, r, sign_colour, SIGN)
                p.circle(centre, 0.65 * r, (240, 240, 240), None)
            elif sign_shape == 1:
                tri = centre + r * np.array([(0, -1.1), (1, 0.8), (-1, 0.8)])
                p.poly(tri, sign_colour, SIGN)
                p.poly(centre + 0.55 * (tri - centre), (240, 240, 240), None)
            else:
                p.poly(
                    centre + r * np.array([(-1, -0.8), (1, -0.8), (1, 0.8),
                                           (-1, 0.8)]), sign_colour, SIGN)
        elif kind == 'light':
            box = np.array([(x - 0.18, height - 1.0, z),
                            (x + 0.18, height - 1.0, z), (x + 0.18, height, z),
                            (x - 0.18, height, z)])
            p.poly3d(box, (30, 30, 30), LIGHT)
            colours = ((230, 40, 30), (240, 180, 30), (40, 220, 90))
            for k, colour in enumerate(colours):
                c = p.camera.project([(x, height - 0.2 - 0.3 * k, z)])[0]
                lit = colour if k == lamp_on else _shade(colour, 0.3)
                p.circle(c, 0.1 * scale, lit, None)
        elif kind == 'lamp':
            a, b = p.camera.project([(x, height, z), (x + arm, height, z)])
            p.line(a, b, 0.12 * scale, metal, POLE)

    return draw


def _sample_objects(rng: np.random.Generator, lay: _Layout) -> List[_Drawable]:
    """Vehicles on the lanes, people and cycles on the sidewalks, poles."""
    objects: List[_Drawable] = []
    occupied: List[Tuple[int, float, float]] = []
    for _ in range(int(rng.integers(0, 10))):
        lane = int(rng.integers(lay.num_lanes))
        cls = rng.choice([CAR, TRUCK, BUS], p=[0.8, 0.1, 0.1])
        z = float(np.exp(rng.uniform(np.log(5), np.log(90))))
        if lane == lay.ego_lane:
            z += 6
        x = lay.road_left + (lane + 0.5 + rng.normal(0, 0.05)) * lay.lane_width
        length, draw = _vehicle_drawer(rng, x, z, cls)
        if any(ln == lane and z < z1 + 1 and z0 < z + length + 1
               for ln, z0, z1 in occupied):
            continue
        occupied.append((lane, z, z + length))
        objects.append((z, draw))
    walks = ((lay.walk_left, lay.road_left), (lay.road_right, lay.walk_right))
    for _ in range(int(rng.integers(0, 12))):
        lo, hi = walks[int(rng.integers(2))]
        z = float(np.exp(rng.uniform(np.log(3.5), np.log(60))))
        if rng.random() < 0.75:
            objects.append((z, _person_drawer(rng, rng.uniform(lo, hi), z)))
        else:
            objects.append((z,
                            _cycle_drawer(rng, rng.uniform(lo, hi), z,
                                          rng.random() < 0.4)))
    if rng.random() < 0.3:  # a cyclist on the road
        x = lay.road_left + rng.uniform(0.5, 1.5)
        z = rng.uniform(6, 40)
        objects.append((z, _cycle_drawer(rng, x, z, True)))
    for x in (lay.road_left - 0.4, lay.road_right + 0.4):
        for z in np.arange(rng.uniform(3, 15), 90, rng.uniform(12, 30)):
            objects.append((z, _pole_drawer(rng, x, z)))
    return objects


def _draw_ego_vehicle(p: _Painter, rng: np.random.Generator) -> None:
    """Ego-vehicle hood at the bottom, labelled ignore."""
    height, width = p.label.shape
    depth = height * rng.uniform(0.05, 0.13)
    centre = (width * rng.uniform(0.45, 0.55), height + depth * 2)
    axes = (width * rng.uniform(0.6, 0.9), depth * 3)
    colour = _pick(rng, _CAR_PAINTS, 10)
    p.poly(
        cv2.ellipse2Poly(
            tuple(int(c) for c in centre), tuple(int(a) for a in axes), 0, 180,
            360, 5), colour, IGNORE)


def _finish(rng: np.random.Generator, img: np.ndarray,
            label: np.ndarray) -> np.ndarray:
    """Lighting, blotchy shading, per-class noise and blur; returns the
    final RGB image (H, W, 3) uint8."""
    height, width = label.shape
    out = img.astype(np.float32)
    cells = rng.normal(0, 1, (max(height // 6, 1), max(width // 6, 1)))
    blotch = cv2.resize(
        cells.astype(np.float32), (width, height),
        interpolation=cv2.INTER_LINEAR)
    out *= (1 + _BLOTCH[label] * blotch)[..., None]
    out += rng.standard_normal(
        (height, width, 3),
        np.float32) * (_NOISE[label] * rng.uniform(0.6, 1.4))[..., None]
    gain = rng.uniform(0.6, 1.25) * rng.uniform(0.92, 1.08, 3)
    out = out * gain.astype(np.float32) + rng.uniform(-15, 15)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.4, 0.9))
    return out


def _render_scene(rng: np.random.Generator, height: int,
                  width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Render one street scene.

    Returns:
        tuple: RGB image (H, W, 3) uint8 and train-ID map (H, W) uint8.
    """
    camera = _sample_camera(rng, height, width)
    lay = _sample_layout(rng)
    p = _Painter(
        np.zeros((height, width, 3), np.uint8),
        np.zeros((height, width), np.uint8), camera)
    _draw_sky(p, rng)
    _draw_ground(p, rng, lay)
    _draw_skyline(p, rng, lay)
    objects = _draw_side(p, rng, lay, -1) + _draw_side(p, rng, lay, 1)
    objects += _sample_objects(rng, lay)
    for _, draw in sorted(objects, key=lambda o: -o[0]):
        draw(p)
    if rng.random() < 0.6:
        _draw_ego_vehicle(p, rng)
    img = _finish(rng, p.img, p.label)
    if rng.random() < 0.3:  # thin out-of-ROI frame
        k = int(rng.integers(1, 5))
        p.label[-k:] = IGNORE
        p.label[:, :k] = IGNORE
        p.label[:, -k:] = IGNORE
    return img, p.label


def _generate_split(out_dir: str, split: str, num_images: int, seed: int,
                    image_size: Tuple[int, int], progress: bool) -> dict:
    """Write the image / label pairs of one split."""
    height, width = image_size
    img_dir = osp.join(out_dir, 'leftImg8bit', split)
    seg_dir = osp.join(out_dir, 'gtFine', split)
    cities = _CITIES[split]
    indices = range(num_images)
    for i in track_iter_progress(indices) if progress else indices:
        rng = np.random.default_rng([seed, _SPLIT_KEYS[split], i])
        img, label = _render_scene(rng, height, width)
        city = cities[i % len(cities)]
        stem = f'{city}_{i // len(cities):06d}_{_FRAME:06d}'
        mkdir_or_exist(osp.join(img_dir, city))
        mkdir_or_exist(osp.join(seg_dir, city))
        cv2.imwrite(
            osp.join(img_dir, city, f'{stem}_leftImg8bit.png'),
            cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        cv2.imwrite(
            osp.join(seg_dir, city, f'{stem}_gtFine_labelTrainIds.png'), label)
    return dict(num_images=num_images, img_dir=img_dir, seg_map_dir=seg_dir)


def generate_cityscapes_segmentation(out_dir: str,
                                     num_train: int = 200,
                                     num_val: int = 50,
                                     seed: int = 0,
                                     image_size: Tuple[int, int] = (256, 512),
                                     progress: bool = True) -> dict:
    """Generate synthetic street scenes in the Cityscapes layout.

    Images are 8-bit RGB PNGs; labels are single-channel uint8 PNGs of
    Cityscapes train IDs (0-18, 255 = ignore). Image ``i`` of a split only
    depends on ``seed``, the split and ``i``. The images of a split are
    spread over two cities (``aachen``/``bochum`` for train,
    ``frankfurt``/``munster`` for val).

    Args:
        out_dir: Output root, created if needed.
        num_train: Number of training images.
        num_val: Number of validation images.
        seed: Random seed.
        image_size: Image (height, width).
        progress: Whether to show a progress bar.

    Returns:
        dict: ``root`` and per split (``train``, ``val``) ``num_images``,
        ``img_dir`` and ``seg_map_dir``.
    """
    summary = dict(root=out_dir)
    for split, num in (('train', num_train), ('val', num_val)):
        summary[split] = _generate_split(out_dir, split, num, seed,
                                         tuple(image_size), progress)
    return summary
