"""Seeded damage masks in three families, with measured coverage.

Real damage on old prints comes in three shapes, and a fill method behaves differently on
each, so training and evaluation draw them separately:

* ``scratches`` - thin scratches, branching cracks and dust specks (about 0.5-8 % of a crop);
* ``strokes``   - free-hand brush strokes of medium width, like a user painting over damage
  (about 5-30 %);
* ``blobs``     - large blobs and torn-off edges or corners (about 10-40 %).

Sizes are relative to the shorter side of the canvas, so one family looks the same on a
256-pixel training crop and on a 512-pixel evaluation photo. Masks are H x W uint8 with
255 = hole, the engine's convention. Every mask comes from a ``numpy.random.Generator``,
so a seed reproduces it exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import cv2
import numpy as np

HOLE = 255


class MaskFamily(enum.Enum):
    SCRATCHES = "scratches"
    STROKES = "strokes"
    BLOBS = "blobs"

    @classmethod
    def parse(cls, name: str) -> "MaskFamily":
        try:
            return cls(name)
        except ValueError:
            raise ValueError(f"Unknown mask family '{name}'; known: {[f.value for f in cls]}") from None


#: Coverage each family aims for (fraction of the canvas); generation retries outside it.
COVERAGE = {
    MaskFamily.SCRATCHES: (0.005, 0.08),
    MaskFamily.STROKES: (0.05, 0.30),
    MaskFamily.BLOBS: (0.10, 0.40),
}


def _wander(rng: np.random.Generator, start, steps: int, step: float, turn: float, heading: float):
    """A random walk whose heading drifts: the shape of a scratch, crack or brush stroke."""
    points = [np.asarray(start, np.float64)]
    for _ in range(steps):
        heading += rng.normal(0.0, turn)
        points.append(points[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
    return np.array(points), heading


def _draw_scratches(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    h, w = canvas.shape
    for _ in range(int(rng.integers(1, 6))):  # long, nearly straight scratches
        start = (rng.uniform(0, w), rng.uniform(0, h))
        steps = int(rng.integers(6, 20))
        pts, _ = _wander(rng, start, steps, side * rng.uniform(0.04, 0.1), 0.08, rng.uniform(0, 2 * np.pi))
        thickness = int(max(1, round(side * rng.uniform(0.003, 0.012))))
        cv2.polylines(canvas, [pts.astype(np.int32)], False, HOLE, thickness, cv2.LINE_8)
    for _ in range(int(rng.integers(0, 3))):  # cracks: jagged, branching
        start = (rng.uniform(0, w), rng.uniform(0, h))
        heading = rng.uniform(0, 2 * np.pi)
        for _branch in range(int(rng.integers(1, 4))):
            pts, heading = _wander(rng, start, int(rng.integers(5, 15)), side * 0.03, 0.5, heading)
            cv2.polylines(canvas, [pts.astype(np.int32)], False, HOLE, int(max(1, round(side * 0.006))), cv2.LINE_8)
            start = pts[int(rng.integers(0, len(pts)))]
            heading += rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.2)
    for _ in range(int(rng.integers(5, 60))):  # dust specks
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        radius = int(max(1, round(side * rng.uniform(0.002, 0.012))))
        cv2.circle(canvas, centre, radius, HOLE, -1)


def _draw_strokes(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    h, w = canvas.shape
    for _ in range(int(rng.integers(1, 5))):
        start = (rng.uniform(0, w), rng.uniform(0, h))
        pts, _ = _wander(rng, start, int(rng.integers(4, 12)), side * rng.uniform(0.05, 0.12), 0.6,
                         rng.uniform(0, 2 * np.pi))
        width = int(max(2, round(side * rng.uniform(0.03, 0.09))))
        cv2.polylines(canvas, [pts.astype(np.int32)], False, HOLE, width, cv2.LINE_AA)
        for p in pts:  # round brush: caps and joints are discs
            cv2.circle(canvas, (int(p[0]), int(p[1])), width // 2, HOLE, -1)


def _blob_polygon(rng: np.random.Generator, centre, radius: float, vertices: int, jag: float) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = radius * rng.uniform(1.0 - jag, 1.0 + jag, vertices)
    return np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], 1).astype(np.int32)


def _draw_blobs(canvas: np.ndarray, rng: np.random.Generator, side: float) -> None:
    h, w = canvas.shape
    if rng.random() < 0.4:  # torn edge or corner: a jagged polygon anchored on the border
        edge = int(rng.integers(0, 4))
        depth = side * rng.uniform(0.2, 0.5)
        n = int(rng.integers(6, 14))
        along = np.linspace(0, 1, n)
        inward = depth * (0.6 + 0.4 * rng.random(n)) * np.sin(np.pi * (0.15 + 0.7 * along)) ** 0.5
        inward += rng.normal(0, side * 0.02, n)
        span = rng.uniform(0.4, 1.0)
        offset = rng.uniform(0, 1 - span)
        t = offset + span * along
        if edge == 0:
            pts = np.stack([t * w, inward], 1)
        elif edge == 1:
            pts = np.stack([t * w, h - inward], 1)
        elif edge == 2:
            pts = np.stack([inward, t * h], 1)
        else:
            pts = np.stack([w - inward, t * h], 1)
        ends = [pts[0].copy(), pts[-1].copy()]
        for end in ends:  # close the polygon along the border
            if edge < 2:
                end[1] = 0 if edge == 0 else h
            else:
                end[0] = 0 if edge == 2 else w
        cv2.fillPoly(canvas, [np.vstack([ends[0], pts, ends[1]]).astype(np.int32)], HOLE)
    for _ in range(int(rng.integers(1, 4))):
        centre = (rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h)
        poly = _blob_polygon(rng, centre, side * rng.uniform(0.08, 0.22), int(rng.integers(6, 14)), 0.45)
        cv2.fillPoly(canvas, [poly], HOLE)
    # Soften the polygon corners into organic shapes.
    k = int(max(3, round(side * 0.03))) | 1
    blurred = cv2.GaussianBlur(canvas, (k, k), 0)
    canvas[:] = np.where(blurred > 127, HOLE, 0).astype(np.uint8)


_DRAW = {MaskFamily.SCRATCHES: _draw_scratches, MaskFamily.STROKES: _draw_strokes, MaskFamily.BLOBS: _draw_blobs}


def generate_mask(family: MaskFamily, height: int, width: int, rng: np.random.Generator,
                  attempts: int = 8) -> np.ndarray:
    """One mask of ``family``; retries until coverage is inside the family's range.

    If every attempt misses (rare: tiny canvases), the last draw is trimmed or kept, so the
    call always returns and never exceeds the range's upper end.
    """
    low, high = COVERAGE[family]
    side = float(min(height, width))
    mask = np.zeros((height, width), np.uint8)
    for _ in range(attempts):
        mask = np.zeros((height, width), np.uint8)
        _DRAW[family](mask, rng, side)
        mask = np.where(mask > 127, HOLE, 0).astype(np.uint8)  # anti-aliased edges -> binary
        cover = np.count_nonzero(mask) / mask.size
        if low <= cover <= high:
            return mask
    while np.count_nonzero(mask) / mask.size > high:  # too big: erode until it fits
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    if not mask.any():  # too small to keep any stroke: at least one speck
        cv2.circle(mask, (width // 2, height // 2), max(1, int(side * 0.02)), HOLE, -1)
    return mask


def generate_mixed(height: int, width: int, rng: np.random.Generator,
                   weights: dict[MaskFamily, float]) -> tuple[MaskFamily, np.ndarray]:
    """A mask from a family drawn with the given weights (the training mixture)."""
    families = list(weights)
    probs = np.array([weights[f] for f in families], np.float64)
    family = families[int(rng.choice(len(families), p=probs / probs.sum()))]
    return family, generate_mask(family, height, width, rng)


@dataclass(frozen=True)
class CoverageStats:
    family: MaskFamily
    count: int
    mean: float
    p05: float
    p50: float
    p95: float
    minimum: float
    maximum: float


def coverage_stats(family: MaskFamily, count: int = 200, size: int = 256, seed: int = 0) -> CoverageStats:
    """Measure the coverage distribution of ``count`` masks (reported in the model card)."""
    rng = np.random.default_rng(seed)
    values = np.array([np.count_nonzero(generate_mask(family, size, size, rng)) / (size * size)
                       for _ in range(count)])
    return CoverageStats(family, count, float(values.mean()), float(np.percentile(values, 5)),
                         float(np.median(values)), float(np.percentile(values, 95)),
                         float(values.min()), float(values.max()))


def main() -> None:
    """``python -m models.masks [--count N] [--size S] [--save DIR]``: print coverage stats."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="write a few example masks as PNG here")
    args = parser.parse_args()
    print("| family | mean | 5 % | median | 95 % | min | max |\n|---|---|---|---|---|---|---|")
    for family in MaskFamily:
        s = coverage_stats(family, args.count, args.size, args.seed)
        print(f"| {family.value} | {s.mean:.1%} | {s.p05:.1%} | {s.p50:.1%} | {s.p95:.1%} | {s.minimum:.1%} | {s.maximum:.1%} |")
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng(args.seed)
            row = np.concatenate([generate_mask(family, args.size, args.size, rng) for _ in range(6)], axis=1)
            cv2.imwrite(str(args.save / f"{family.value}.png"), row)


if __name__ == "__main__":
    main()
