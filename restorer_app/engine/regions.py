"""Where to work: boxes around the mask's clusters, each with surrounding context.

Filling only the boxes keeps the cost proportional to the damage, not the scan, and every
box is a cancellation point.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .masks import holes_of


@dataclass(frozen=True)
class Box:
    """Half-open pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def full(cls, height: int, width: int) -> "Box":
        """The whole of an image of ``height`` x ``width``."""
        return cls(0, 0, width, height)

    @classmethod
    def around(cls, mask: np.ndarray) -> "Box | None":
        """The smallest box holding every nonzero pixel of a 2-D array, or None when it has none."""
        if mask.dtype == bool:
            mask = mask.view(np.uint8)
        elif mask.dtype != np.uint8:
            mask = (mask != 0).view(np.uint8)
        x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask))
        return cls(x, y, x + w, y + h) if w and h else None

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def slices_within(self, outer: "Box") -> tuple[slice, slice]:
        """Where this box lies in an array cut out at ``outer`` (which holds it)."""
        return (slice(self.y0 - outer.y0, self.y1 - outer.y0), slice(self.x0 - outer.x0, self.x1 - outer.x0))

    def fits(self, height: int, width: int) -> bool:
        """True when the box lies inside an image of ``height`` x ``width``."""
        return 0 <= self.x0 <= self.x1 <= width and 0 <= self.y0 <= self.y1 <= height

    def clipped(self, height: int, width: int) -> "Box":
        """The part of the box inside an image of ``height`` x ``width``."""
        return Box(max(self.x0, 0), max(self.y0, 0), min(self.x1, width), min(self.y1, height))

    def expanded(self, margin: int, height: int, width: int) -> "Box":
        """``margin`` pixels more on every side, within an image of ``height`` x ``width``."""
        return Box(self.x0 - margin, self.y0 - margin, self.x1 + margin, self.y1 + margin).clipped(height, width)

    def intersection(self, other: "Box") -> "Box | None":
        """The pixels both boxes hold, or None when they share none."""
        box = Box(max(self.x0, other.x0), max(self.y0, other.y0), min(self.x1, other.x1), min(self.y1, other.y1))
        return None if box.is_empty else box

    def union(self, other: "Box") -> "Box":
        """The smallest box holding both."""
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))


@dataclass(frozen=True, eq=False)
class Region:
    """One cluster of holes: its box (holes plus context) and which hole pixels it owns."""

    box: Box
    holes: np.ndarray  # bool, box-shaped

    @property
    def hole_count(self) -> int:
        return int(np.count_nonzero(self.holes))


def regions_around_mask(mask: np.ndarray, margin: int, cell: int = 8) -> list[Region]:
    """Split the mask into clusters of holes, each boxed with at least ``margin`` pixels of
    context. Every hole pixel belongs to exactly one region.

    Clusters are holes closer than about twice the margin. Boxes of different clusters may
    overlap (a long diagonal scratch has a large box), but a region only fills the holes it
    owns, and holes of other clusters are farther away than ``margin``. The search runs on a
    grid of ``cell``-pixel cells (boxes snap outwards to it), which keeps it fast on 60 MP
    scans with thousands of dust specks. Regions are ordered top to bottom, left to right.
    """
    height, width = mask.shape[:2]
    holes = holes_of(mask)
    grid = _coarse_any(holes, cell)
    reach = -(-margin // cell)  # ceil: at least ``margin`` pixels of context
    if reach > 0:
        grid = cv2.dilate(grid, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    regions = []
    for label in range(1, count):
        cx, cy, cw, ch = (int(v) for v in stats[label][:4])
        box = Box(cx * cell, cy * cell, (cx + cw) * cell, (cy + ch) * cell).clipped(height, width)
        cells = labels[cy:cy + ch, cx:cx + cw] == label
        owned = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)[: box.height, : box.width]
        own_holes = holes[box.slices] & owned
        if own_holes.any():
            regions.extend(tiled(Region(box, own_holes), margin, height, width))
    return sorted(regions, key=lambda r: (r.box.y0, r.box.x0))


#: A region whose box is larger than this is cut into tiles (long scratches across a scan
#: otherwise make one scan-sized crop, and memory follows the crop).
MAX_REGION_PIXELS = 2048 * 2048
#: The side of those tiles: each owns the holes inside it and takes ``margin`` of context.
REGION_TILE = 256


def tiled(region: Region, margin: int, height: int, width: int) -> list[Region]:
    """``region`` as it is, or, when its box is larger than :data:`MAX_REGION_PIXELS`, cut into
    :data:`REGION_TILE` tiles: each owns the region's holes inside it (so every hole pixel still
    belongs to exactly one region) and its box is those holes with ``margin`` of context. A
    long scratch is then filled piece by piece in crops of bounded size."""
    box = region.box
    if box.width * box.height <= MAX_REGION_PIXELS:
        return [region]
    pieces = []
    for ty in range(box.y0 - box.y0 % REGION_TILE, box.y1, REGION_TILE):
        for tx in range(box.x0 - box.x0 % REGION_TILE, box.x1, REGION_TILE):
            tile = Box(tx, ty, tx + REGION_TILE, ty + REGION_TILE).intersection(box)
            if tile is None:
                continue
            owned = region.holes[tile.slices_within(box)]
            found = Box.around(owned.view(np.uint8))
            if found is None:
                continue
            inner = Box(tile.x0 + found.x0, tile.y0 + found.y0, tile.x0 + found.x1, tile.y0 + found.y1)
            piece = inner.expanded(margin, height, width)
            holes = np.zeros((piece.height, piece.width), bool)
            holes[inner.slices_within(piece)] = owned[found.slices]
            pieces.append(Region(piece, holes))
    return pieces


def _coarse_any(binary: np.ndarray, cell: int) -> np.ndarray:
    """uint8 grid: 1 where any pixel of the ``cell`` x ``cell`` block is set."""
    height, width = binary.shape
    rows, cols = -(-height // cell), -(-width // cell)
    padded = np.zeros((rows * cell, cols * cell), bool)
    padded[:height, :width] = binary
    return padded.reshape(rows, cell, cols, cell).any(axis=(1, 3)).astype(np.uint8)


def inner_distance(region: Region, size: tuple[int, int] | None = None) -> np.ndarray:
    """Distance of each hole pixel of ``region`` to the nearest known pixel.

    Without ``size`` the photo's edge counts as known; with the photo's (height, width) it does
    not, so a torn corner or an extended canvas is as deep as its distance from the photo that
    is left (a scratch that runs off the edge stays as thin as it is)."""
    # Pad with known pixels: OpenCV treats the image border as infinitely far away.
    padded = np.pad(region.holes.astype(np.uint8), 1)
    if size is not None:
        box, (height, width) = region.box, size
        for at_edge, side in ((box.y0 == 0, np.s_[0, :]), (box.y1 == height, np.s_[-1, :]),
                              (box.x0 == 0, np.s_[:, 0]), (box.x1 == width, np.s_[:, -1])):
            if at_edge:  # beyond the photo's edge: no known pixel, so as far as OpenCV's border
                padded[side] = 1
    return cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]


def wide_part(region: Region, radius: float, size: tuple[int, int] | None = None) -> np.ndarray:
    """Box-shaped bool array: the hole pixels of ``region`` within about ``radius`` of a pixel
    that lies farther than ``radius`` from any known pixel (a morphological opening). What is
    left is thin damage - hairline scratches, cracks, dust specks up to about ``2 * radius``
    pixels across, and a scratch's tail where it leaves a torn area. ``size``: as for
    :func:`inner_distance`."""
    seeds = inner_distance(region, size) > radius
    if not seeds.any():
        return seeds
    reach = int(np.ceil(radius)) + 2
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    return cv2.dilate(seeds.astype(np.uint8), disk).astype(bool) & region.holes


def thick_holes(mask: np.ndarray, regions: list[Region], radius: float) -> np.ndarray:
    """uint8 mask (255) of the wide parts (:func:`wide_part`) of all holes; thin damage is
    what the classical fills already repair well. Works region by region, so the only
    full-size array is the result."""
    thick = np.zeros(mask.shape[:2], np.uint8)
    for region in regions:
        wide = wide_part(region, radius)
        if wide.any():
            target = thick[region.box.slices]
            target[wide] = 255
    return thick
