"""Where to work: boxes around the mask's clusters, each with surrounding context.

Filling only the boxes keeps the cost proportional to the damage, not the scan, and every
box is a cancellation point.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """Half-open pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def expanded(self, margin: int, height: int, width: int) -> "Box":
        return Box(max(self.x0 - margin, 0), max(self.y0 - margin, 0),
                   min(self.x1 + margin, width), min(self.y1 + margin, height))

    def overlaps(self, other: "Box") -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


def regions_around_mask(mask: np.ndarray, margin: int) -> list[Box]:
    """Disjoint boxes that cover every mask pixel with at least ``margin`` pixels of context.

    Clusters whose context would overlap share one box, so no box contains another box's
    hole pixels: each hole pixel is filled in exactly one box, from known pixels only.
    Boxes are ordered top to bottom, left to right.
    """
    binary = (mask > 0).astype(np.uint8)
    if margin > 0:
        binary = cv2.dilate(binary, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    # Replace each cluster by its bounding rectangle until the rectangles stop touching;
    # done on a raster, this stays fast with thousands of dust specks.
    while True:
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        boxes = [Box(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:count]]
        filled = np.zeros_like(binary)
        for box in boxes:
            filled[box.slices] = 1
        if np.array_equal(filled, binary):
            break
        binary = filled
    return sorted(boxes, key=lambda b: (b.y0, b.x0))
