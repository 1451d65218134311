"""Lasso: an outline closed into an area of the mask, for torn areas and losses too ragged to
paint. Qt-free: the canvas collects the outline (lasso_tool.py), this fills it.

A pixel is inside when its centre is inside the outline, the same rule the brush uses for its
circle, so a lasso drawn along a painted edge meets it without a gap or an overlap.
"""

from __future__ import annotations

import math

import numpy as np

from restorer_app.engine.regions import Box

from .brush_stroke import MaskPatch

def outline_box(points: list[tuple[float, float]], height: int, width: int) -> Box | None:
    """The pixels an outline can cover, within the photo; None when it covers none."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    box = Box(int(math.floor(min(xs))), int(math.floor(min(ys))),
              int(math.ceil(max(xs))) + 1, int(math.ceil(max(ys))) + 1).clipped(height, width)
    return None if box.is_empty else box


def inside_outline(points: list[tuple[float, float]], box: Box) -> np.ndarray:
    """bool, ``box``'s shape: True where a pixel's centre is inside the closed outline. The
    non-zero winding rule, so a freehand loop drawn round twice is still all inside."""
    pts = np.asarray(points, np.float64)
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    inside = np.zeros((box.height, box.width), bool)
    for row in range(box.height):
        yc = box.y0 + row + 0.5
        crossing = (y0 <= yc) != (y1 <= yc)
        if not crossing.any():
            continue
        ya, yb, xa, xb = y0[crossing], y1[crossing], x0[crossing], x1[crossing]
        xs = xa + (yc - ya) / (yb - ya) * (xb - xa)
        order = np.argsort(xs, kind="stable")
        xs, winding = xs[order], np.cumsum(np.where(yb > ya, 1, -1)[order])
        for left, right, turns in zip(xs[:-1], xs[1:], winding[:-1]):
            if turns == 0:
                continue
            # pixel i is inside when left < i + 0.5 < right
            first = max(int(np.floor(left - 0.5)) + 1 - box.x0, 0)
            last = min(int(np.ceil(right - 0.5)) - 1 - box.x0, box.width - 1)
            if first <= last:
                inside[row, first:last + 1] = True
    return inside


def fill_outline(mask: np.ndarray, points: list[tuple[float, float]], value: int) -> MaskPatch | None:
    """Set every pixel of ``mask`` whose centre lies inside the closed outline through
    ``points`` (image coordinates) to ``value``, in place; the patch says what changed (None:
    nothing did, or the outline has fewer than three points)."""
    if len(points) < 3:
        return None
    height, width = mask.shape
    box = outline_box(points, height, width)
    if box is None:
        return None
    inside = inside_outline(points, box)
    before = mask[box.slices].copy()
    after = before.copy()
    after[inside] = value
    if np.array_equal(before, after):
        return None
    mask[box.slices] = after
    return MaskPatch(box, before, after)
