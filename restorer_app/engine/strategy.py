"""How a network meets a big photo, for every kind of model.

Crops around the work with context, scaling above a model's ``max_side`` and back, padding
to its size multiple, tiles with overlap and their seamless blend for whole-photo models, and
the session run itself (tensors in, tensors out, errors as sentences). Model classes keep only
what is their own (``methods.OnnxFill``, ``photo_models``); pixel <-> float conversion is in
``tensors``. Nothing here knows about fills or pipelines.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .errors import ModelError, OutOfMemoryError
from .progress import Progress
from .regions import Box
from .registry import LoadedModel
from . import tensors

#: Pixels by which neighbouring tiles of a whole-photo model overlap (the blend's width).
TILE_OVERLAP = 32
#: No side is scaled below this many pixels.
MIN_SIDE = 8


# ----------------------------------------------------------------------------- crops

#: Pixels of context a learned fill asks for around each cluster of holes (methods.OnnxFill).
LEARNED_CONTEXT = 32
#: The grid cluster boxes snap outwards to (regions.regions_around_mask's ``cell``).
_REGION_CELL = 8


def context_box(box: Box, margin: int, height: int, width: int) -> Box:
    """``box`` with generous context: a quarter of its larger side, at least ``margin``."""
    extra = max(margin, max(box.width, box.height) // 4)
    return box.expanded(extra, height, width)


def fill_reach(box: Box, height: int, width: int) -> Box:
    """Every pixel a fill of holes inside ``box`` can have read, for any method: the cluster
    boxes around the holes (context plus the grid they snap to) and the crop with context
    around each. A fill whose reach holds none of another step's pixels did not depend on
    that step, so the step can be taken out without changing the fill."""
    region_margin = LEARNED_CONTEXT + _REGION_CELL
    regions = box.expanded(region_margin, height, width)
    return context_box(regions, LEARNED_CONTEXT, height, width).expanded(1, height, width)


# ----------------------------------------------------------------------------- scaling

def fit_scale(height: int, width: int, max_side: int) -> float:
    """The factor (at most 1) that brings the larger side down to ``max_side``."""
    return min(1.0, max_side / max(height, width))


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(width, height) after scaling by ``scale``, as OpenCV takes sizes."""
    return max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale))


def shrink(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Float pixels down to ``size`` (width, height): area averaging, no aliasing."""
    return cv2.resize(values, size, interpolation=cv2.INTER_AREA)


def shrink_mask(hole: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 0/1 uint8 hole down to ``size``; every output pixel touching the hole is hole."""
    return (cv2.resize(hole.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)


def enlarge(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Float pixels back up to ``size`` (width, height)."""
    return cv2.resize(values, size, interpolation=cv2.INTER_CUBIC)


# ----------------------------------------------------------------------------- padding

def padded_side(n: int, multiple: int) -> int:
    """``n`` rounded up to the model's size multiple."""
    multiple = max(1, multiple)
    return -(-n // multiple) * multiple


def pad_to_multiple(arrays: list[np.ndarray], multiple: int) -> list[np.ndarray]:
    """H x W (x C) arrays of one size, padded at the bottom and right to a multiple of
    ``multiple``: mirrored where the array is large enough, else repeating its edge."""
    h, w = arrays[0].shape[:2]
    pad_h, pad_w = padded_side(h, multiple) - h, padded_side(w, multiple) - w
    mode = "reflect" if h > pad_h and w > pad_w else "edge"
    return [np.pad(a, ((0, pad_h), (0, pad_w)) + ((0, 0),) * (a.ndim - 2), mode=mode) for a in arrays]


# ----------------------------------------------------------------------------- tiles

def _starts(n: int, tile: int, overlap: int) -> list[int]:
    if n <= tile:
        return [0]
    count = -(-(n - overlap) // (tile - overlap))
    return [round(i * (n - tile) / (count - 1)) for i in range(count)]


def tiles(height: int, width: int, tile: int, overlap: int = TILE_OVERLAP) -> list[Box]:
    """Boxes of at most ``tile`` x ``tile`` covering the image row by row, spread evenly so
    that neighbours overlap by at least ``overlap`` pixels."""
    if not 0 <= overlap < tile:
        raise ValueError(f"A tile of {tile} px cannot overlap its neighbours by {overlap} px.")
    return [Box(x, y, min(x + tile, width), min(y + tile, height))
            for y in _starts(height, tile, overlap) for x in _starts(width, tile, overlap)]


def _ramp(start: int, end: int, n: int, overlap: int) -> np.ndarray:
    weight = np.ones(end - start, np.float64)
    rise = np.arange(1, overlap + 1, dtype=np.float64) / (overlap + 1)
    reach = min(overlap, end - start)
    if start > 0:  # a neighbour before: fade in
        weight[:reach] = np.minimum(weight[:reach], rise[:reach])
    if end < n:  # a neighbour after: fade out
        weight[len(weight) - reach:] = np.minimum(weight[len(weight) - reach:], rise[:reach][::-1])
    return weight


def tile_weight(box: Box, height: int, width: int, overlap: int) -> np.ndarray:
    """H x W float64 weight of one tile's output: 1 in its interior and at the photo's
    border, fading towards the edges it shares with neighbours (never to zero)."""
    return np.outer(_ramp(box.y0, box.y1, height, overlap), _ramp(box.x0, box.x1, width, overlap))


def run_tiled(inputs: dict[str, np.ndarray], run: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
              tile: int, overlap: int = TILE_OVERLAP, progress: Progress | None = None) -> dict[str, np.ndarray]:
    """``run`` over overlapping tiles of H x W x C ``inputs``, its H x W x C outputs blended
    with :func:`tile_weight` (normalised, so a model that changes nothing gives back its input
    and a constant change is the same constant everywhere). Each tile is a progress step and a
    cancellation point."""
    progress = progress or Progress()
    height, width = next(iter(inputs.values())).shape[:2]
    boxes = tiles(height, width, tile, overlap)
    sums: dict[str, np.ndarray] = {}
    total = np.zeros((height, width, 1), np.float32)
    for index, box in enumerate(boxes):
        progress.check_cancelled()
        outputs = run({name: np.ascontiguousarray(values[box.slices]) for name, values in inputs.items()})
        weight = tile_weight(box, height, width, overlap).astype(np.float32)[:, :, None]
        for name, values in outputs.items():
            if name not in sums:  # float32: a 60 MP scan's sums would take 1.4 GB more in float64
                sums[name] = np.zeros((height, width, values.shape[2]), np.float32)
            sums[name][box.slices] += weight * values
        total[box.slices] += weight
        progress.report((index + 1) / len(boxes), f"Tile {index + 1} of {len(boxes)}")
    return {name: values / total for name, values in sums.items()}


# ----------------------------------------------------------------------------- the session

class ModelRunner:
    """Feeds one verified model. Spatial inputs (H x W x C float32) are padded to the size
    multiple and given as NCHW, vectors as 1 x N; outputs come back H x W x C at the input's
    size, clipped to the range the manifest declares. A subclass per kind of model says what
    its runs are doing (for the error sentences) and adds what is its own."""

    #: How the error sentences name the work and its piece: "filling a 640x480 region".
    work = "processing"
    unit = "region"
    #: What to try when the device runs out of memory.
    advice = "close other programs or use the CPU"

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self.entry = model.entry

    def run(self, images: dict[str, np.ndarray], vectors: dict[str, np.ndarray] | None = None,
            outputs: list[str] | None = None,
            codes: dict[str, Callable[[int, int], np.ndarray]] | None = None) -> dict[str, np.ndarray]:
        """One session run on images of one size; ``outputs`` defaults to all the model's.
        ``codes`` give inputs whose shape follows the padded size: ``make(height, width)``
        returns the N x C x h x w array to feed (a generation model's latent code)."""
        entry = self.entry
        h, w = next(iter(images.values())).shape[:2]
        padded = pad_to_multiple(list(images.values()), entry.size_multiple)
        feeds = {name: tensors.to_nchw(values) for name, values in zip(images, padded)}
        for name, vector in (vectors or {}).items():
            feeds[name] = vector.reshape(1, -1).astype(np.float32)
        for name, make in (codes or {}).items():
            feeds[name] = np.ascontiguousarray(make(*padded[0].shape[:2]), dtype=np.float32)
        names = outputs or [spec.name for spec in entry.outputs]
        try:
            results = self.model.session.run(names, feeds)
        except Exception as exc:  # ORT raises RuntimeException/Fail with the allocator message
            if "memory" in str(exc).lower() or "alloc" in str(exc).lower():
                raise OutOfMemoryError(
                    f"The device ran out of memory {self.work} a {w}x{h} {self.unit}; {self.advice}."
                ) from None
            raise ModelError(f"Model '{entry.id}' failed on a {w}x{h} {self.unit}: {exc}") from None
        out = {}
        for name, result in zip(names, results):
            values = tensors.from_nchw(result)[:h, :w]
            spec = next((s for s in entry.outputs if s.name == name), None)
            if spec is not None and spec.value_range is not None:
                values = np.clip(values, *spec.value_range)
            out[name] = values
        return out
