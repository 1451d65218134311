"""Seeded masks for the generation model: losses where little or nothing is around to continue.

* ``border`` - torn corners and ragged strips torn off along an edge (5-20 % of a crop);
* ``large``  - one large loss inside the photo, possibly reaching an edge (20-50 %);
* ``extend`` - extended canvas: straight bands on one to four sides (10-40 %).

Like :mod:`models.masks`: H x W uint8, 255 = hole, sizes relative to the shorter side, every
mask from a ``numpy.random.Generator``. ``python -m models.gen_masks`` prints the coverage.
"""

from __future__ import annotations

import enum

import cv2
import numpy as np

from .masks import HOLE, _blob_polygon


class GenerationFamily(enum.Enum):
    BORDER = "border"
    LARGE = "large"
    EXTEND = "extend"

    @classmethod
    def parse(cls, name: str) -> "GenerationFamily":
        try:
            return cls(name)
        except ValueError:
            raise ValueError(f"Unknown generation mask family '{name}'; known: {[f.value for f in cls]}") from None


COVERAGE = {
    GenerationFamily.BORDER: (0.05, 0.20),
    GenerationFamily.LARGE: (0.20, 0.50),
    GenerationFamily.EXTEND: (0.10, 0.40),
}


def _ragged(rng: np.random.Generator, n: int, depth: float, side: float) -> np.ndarray:
    """A torn paper edge: depth along ``n`` points, wandering plus small jagged teeth."""
    walk = np.cumsum(rng.normal(0.0, side * 0.012, n))
    walk -= np.linspace(walk[0], walk[-1], n) * rng.uniform(0.0, 1.0)
    teeth = rng.normal(0.0, side * 0.006, n)
    return np.maximum(side * 0.01, depth + walk + teeth)


def _draw_border(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    if rng.random() < 0.5:
        _draw_corner(canvas, rng, side)
    else:
        _draw_strip(canvas, rng, side)


def _draw_corner(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    """A torn corner: a ragged line cutting the corner off."""
    h, w = canvas.shape
    a = side * rng.uniform(0.25, 0.65)
    b = side * rng.uniform(0.25, 0.65)
    n = 64
    t = np.linspace(0.0, 1.0, n)
    # from (a, 0) on the top edge to (0, b) on the left edge, bowed and ragged
    bow = rng.uniform(-0.15, 0.25)
    xs = a * (1 - t) + bow * side * np.sin(np.pi * t) * 0.5
    ys = b * t + bow * side * np.sin(np.pi * t) * 0.5
    jag = rng.normal(0.0, side * 0.008, (n, 2)) + np.cumsum(rng.normal(0, side * 0.004, (n, 2)), 0)
    pts = np.stack([xs, ys], 1) + jag
    pts = np.vstack([[0.0, 0.0], [pts[0, 0], 0.0], pts, [0.0, pts[-1, 1]]])
    corner = int(rng.integers(0, 4))
    if corner in (1, 2):
        pts[:, 0] = w - pts[:, 0]
    if corner in (2, 3):
        pts[:, 1] = h - pts[:, 1]
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], HOLE)


def _draw_strip(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    """A strip torn off along one edge, part of its length or all of it."""
    h, w = canvas.shape
    edge = int(rng.integers(0, 4))
    length = w if edge < 2 else h
    n = 48
    span = rng.uniform(0.5, 1.0)
    start = rng.uniform(0.0, 1.0 - span)
    along = (start + span * np.linspace(0.0, 1.0, n)) * length
    depth = _ragged(rng, n, side * rng.uniform(0.06, 0.22), side)
    if span < 1.0:  # a partial strip tapers into the edge at its ends
        depth *= np.sin(np.pi * np.linspace(0.0, 1.0, n)) ** 0.35
    if edge == 0:
        pts = np.stack([along, depth], 1)
        ends = [[along[0], 0.0], [along[-1], 0.0]]
    elif edge == 1:
        pts = np.stack([along, h - depth], 1)
        ends = [[along[0], h], [along[-1], h]]
    elif edge == 2:
        pts = np.stack([depth, along], 1)
        ends = [[0.0, along[0]], [0.0, along[-1]]]
    else:
        pts = np.stack([w - depth, along], 1)
        ends = [[w, along[0]], [w, along[-1]]]
    cv2.fillPoly(canvas, [np.round(np.vstack([ends[0], pts, ends[1]])).astype(np.int32)], HOLE)


def _draw_large(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    h, w = canvas.shape
    centre = (rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h)
    poly = _blob_polygon(rng, centre, side * rng.uniform(0.28, 0.42), int(rng.integers(7, 14)), 0.35)
    cv2.fillPoly(canvas, [poly], HOLE)
    k = int(max(3, round(side * 0.04))) | 1
    blurred = cv2.GaussianBlur(canvas, (k, k), 0)
    canvas[:] = np.where(blurred > 127, HOLE, 0).astype(np.uint8)


def _draw_extend(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    h, w = canvas.shape
    sides = int(rng.choice([1, 1, 1, 2, 2, 4]))
    chosen = rng.choice(4, size=sides, replace=False)
    for edge in chosen:
        band = int(round(side * rng.uniform(0.10, 0.30) / (1.0 if sides == 1 else 1.6)))
        if edge == 0:
            canvas[:band] = HOLE
        elif edge == 1:
            canvas[h - band:] = HOLE
        elif edge == 2:
            canvas[:, :band] = HOLE
        else:
            canvas[:, w - band:] = HOLE


_DRAW = {GenerationFamily.BORDER: _draw_border, GenerationFamily.LARGE: _draw_large,
         GenerationFamily.EXTEND: _draw_extend}


#: The two shapes of ``border``, for evaluations that report them apart.
BORDER_SHAPES = {"corner": _draw_corner, "strip": _draw_strip}


def generation_mask(family: GenerationFamily, height: int, width: int, rng: np.random.Generator,
                    attempts: int = 12, shape: str | None = None) -> np.ndarray:
    """One mask of ``family`` (of ``border``: only the ``shape`` "corner" or "strip" if given),
    redrawn until its coverage is in the family's range (the last draw, eroded to fit if it is
    too large, when every attempt misses)."""
    low, high = COVERAGE[family]
    side = float(min(height, width))
    draw = BORDER_SHAPES[shape] if shape else _DRAW[family]
    mask = np.zeros((height, width), np.uint8)
    for _ in range(attempts):
        mask = np.zeros((height, width), np.uint8)
        draw(mask, rng, side)
        cover = np.count_nonzero(mask) / mask.size
        if low <= cover <= high:
            return mask
    while np.count_nonzero(mask) / mask.size > high:
        mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    if not mask.any():
        mask[: max(1, height // 10)] = HOLE
    return mask


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'family':<8} {'mean':>6} {'min':>6} {'max':>6}  (coverage of 300 masks at 256 px)")
    for family in GenerationFamily:
        cover = np.array([np.count_nonzero(generation_mask(family, 256, 256, rng)) / 256 ** 2 for _ in range(300)])
        print(f"{family.value:<8} {cover.mean():6.3f} {cover.min():6.3f} {cover.max():6.3f}")


if __name__ == "__main__":
    main()
