"""Brush strokes painted straight into the mask array, remembering only what they touch.

Qt-free so it can be tested and reused without a window. A stroke never copies the whole
mask: before painting a segment it backs up the 64-pixel tiles that segment may change,
and when the stroke ends it assembles its undo patch from those tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from restorer_app.engine.regions import Box

TILE = 64
#: A 1-pixel brush still paints the pixel under the pointer wherever inside it you click.
_MIN_RADIUS = 0.75


@dataclass(frozen=True)
class MaskPatch:
    """The mask inside ``box`` before and after an edit (for undo/redo)."""

    box: Box
    before: np.ndarray
    after: np.ndarray


class BrushStroke:
    """One press-drag-release of the brush (``value`` 255) or eraser (0) on ``mask``.

    ``diameter`` is in image pixels: a pixel is painted when its centre lies within
    ``diameter / 2`` of the pointer's path, which is exactly the circle the canvas shows.
    """

    def __init__(self, mask: np.ndarray, diameter: float, value: int) -> None:
        self._mask = mask
        self._radius = max(float(diameter) / 2.0, _MIN_RADIUS)
        self._value = np.uint8(value)
        self._saved: dict[tuple[int, int], np.ndarray] = {}
        self._box: Box | None = None
        self._last: tuple[float, float] | None = None

    def add_point(self, x: float, y: float) -> Box | None:
        """Paint from the previous point to (x, y) in image coordinates; return what changed."""
        start = self._last or (x, y)
        self._last = (x, y)
        box = self._segment_box(start, (x, y))
        if box is None:
            return None
        self._back_up(box)
        self._paint_segment(box, start, (x, y))
        self._box = box if self._box is None else self._box.union(box)
        return box

    def finish(self) -> MaskPatch | None:
        """The stroke's undo patch, or None when it changed nothing."""
        if self._box is None:
            return None
        box = self._box
        before = self._mask[box.slices].copy()
        for (ty, tx), tile in self._saved.items():
            tile_box = Box(tx * TILE, ty * TILE, tx * TILE + tile.shape[1], ty * TILE + tile.shape[0])
            common = tile_box.intersection(box)
            if common is None:
                continue
            before[common.slices_within(box)] = tile[common.slices_within(tile_box)]
        after = self._mask[box.slices].copy()
        self._saved.clear()
        if np.array_equal(before, after):
            return None
        return MaskPatch(box, before, after)

    def _segment_box(self, a: tuple[float, float], b: tuple[float, float]) -> Box | None:
        height, width = self._mask.shape
        r = self._radius
        box = Box(
            int(math.floor(min(a[0], b[0]) - r)),
            int(math.floor(min(a[1], b[1]) - r)),
            int(math.ceil(max(a[0], b[0]) + r)) + 1,
            int(math.ceil(max(a[1], b[1]) + r)) + 1,
        ).clipped(height, width)
        return None if box.is_empty else box

    def _back_up(self, box: Box) -> None:
        for ty in range(box.y0 // TILE, (box.y1 - 1) // TILE + 1):
            for tx in range(box.x0 // TILE, (box.x1 - 1) // TILE + 1):
                if (ty, tx) not in self._saved:
                    tile = self._mask[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE]
                    self._saved[(ty, tx)] = tile.copy()

    def _paint_segment(self, box: Box, a: tuple[float, float], b: tuple[float, float]) -> None:
        # Distance from each pixel centre to the segment a-b, computed only inside its box.
        ys = np.arange(box.y0, box.y1, dtype=np.float32)[:, None] + 0.5 - a[1]
        xs = np.arange(box.x0, box.x1, dtype=np.float32)[None, :] + 0.5 - a[0]
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = np.clip((xs * dx + ys * dy) / length2, 0.0, 1.0)
            xs = xs - t * dx
            ys = ys - t * dy
        inside = xs * xs + ys * ys <= self._radius * self._radius
        self._mask[box.slices][inside] = self._value
