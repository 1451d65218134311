"""Grain matching: give a smooth fill the fine texture of the photo around it.

A learned (or classical) fill predicts what is most likely in a hole, which is smooth: film
grain, paper texture and the finest detail of foliage or stone cannot be predicted, so they are
missing, and a restorer sees a plastic-looking patch in a grainy scan. Restorers fix that by
hand by adding grain; :func:`match_grain` does it from the photo itself.

How: the photo's fine detail (the difference to a Gaussian blur of ``sigma``) is measured in a
ring around the hole, in blocks; blocks far busier than the typical one (an edge, a dust speck
nobody masked) are set aside, for measuring and for copying. Where the fill's interior has less
of it than ``strength`` times the ring's, calm blocks are copied from nearby places in the ring
into the hole (16-pixel blocks with 50 % overlap and Hann windows normalised to keep the
energy), scaled to make up the difference, and faded in over the first few pixels from the
hole's edge. Only the fine band is added, so the fill's colours and shapes stay the model's.

The added detail is not the photo's lost detail: it raises how natural the fill looks and
lowers hole-PSNR a little (the model card measures both). ``strength`` 1 matches the
surroundings' fine-detail energy; 0 leaves the fill as it is.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA = 1.5  # pixels: the scale of "fine detail" (grain, paper, the finest texture)
BLOCK = 16  # pixels: side of the copied blocks
RING = 32  # pixels: how far around the hole the texture is measured and taken from
#: Pixels over which the added detail fades in from the hole's edge; holes with no pixel farther
#: than one more than this from their edge (hairlines up to 2 px wide) get none. Session 4 kept
#: lines up to ~9 px wide out too (4 px), for hole-PSNR; but a smooth 3-pixel line through
#: foliage or gravel stays visible with every method, and with grain it does not (model card:
#: scratches +1.07 -> +0.78 dB over the classical fills, still above the +0.5 goal).
FADE = 1.0
_CANDIDATES = 12  # random source blocks considered per destination; the nearest is taken
#: Source blocks with more than this many times the median block's detail energy are not
#: copied: they hold an edge, or dust and scratches nobody masked, and grain should not
#: duplicate either into the hole.
OUTLIER = 4.0


def fine_detail(rgb: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """The high-frequency band: ``rgb`` minus its Gaussian blur (same shape, float32)."""
    rgb = rgb.astype(np.float32, copy=False)
    return rgb - cv2.GaussianBlur(rgb, (0, 0), sigma)


def match_grain(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray, strength: float,
                rng: np.random.Generator, targets: np.ndarray | None = None) -> np.ndarray:
    """``fill`` with fine detail added inside ``hole`` so it carries ``strength`` x the detail
    energy of the photo around it.

    ``photo`` and ``fill`` are float32 H x W x C in [0, 1] (``photo``'s hole pixels are ignored,
    ``fill`` is the filled crop); ``hole`` is bool H x W. Returns a new array equal to ``fill``
    outside the hole. Each connected hole with pixels deeper than :data:`FADE` from its edge gets
    the grain of the ring around it, worked out in a window around that hole (a crop can be most
    of a scan) with its own random stream, so other holes change nothing in it; hairlines get
    none. When there is too little known photo around a hole, or its fill is already as detailed
    as asked, it stays as filled. ``targets`` (bool H x W), when given, limits the work to the holes
    that touch it: a region's crop also holds its neighbours' holes, which another crop fills.
    """
    hole = hole.astype(bool)
    out = fill.astype(np.float32, copy=True)
    if strength <= 0 or not hole.any() or hole.all():
        return out
    hole_u8 = hole.astype(np.uint8)
    depth = cv2.distanceTransform(hole_u8, cv2.DIST_L2, 5)
    interior = depth >= 1.0 + FADE
    if targets is not None:
        interior &= targets
    if not interior.any():  # hairlines only: nothing to do (checked first, it is cheap)
        return out
    _, labels, stats, _ = cv2.connectedComponentsWithStats(hole_u8, connectivity=8)
    pad = RING + BLOCK + int(np.ceil(3 * SIGMA))
    stream = int(rng.integers(2**62))
    for label in np.unique(labels[interior]):
        x, y, w, h = (int(v) for v in stats[label, :4])
        window = (slice(max(0, y - pad), y + h + pad), slice(max(0, x - pad), x + w + pad))
        _add_grain(out[window], photo[window], hole[window], labels[window] == label, depth[window],
                   strength, np.random.default_rng([stream, y, x]))
    return out


def _add_grain(out: np.ndarray, photo: np.ndarray, hole: np.ndarray, thick: np.ndarray,
               depth: np.ndarray, strength: float, rng: np.random.Generator) -> None:
    """Add grain in place to ``out`` (a window of the filled crop) inside the one hole ``thick``;
    ``hole`` holds every hole in the window (none of them is a source of grain)."""
    fade = np.where(thick, np.clip((depth - 1.0) / FADE, 0.0, 1.0), 0.0).astype(np.float32)
    interior = fade >= 1.0
    composite = np.where(hole[..., None], out, photo.astype(np.float32))
    detail = fine_detail(composite)
    # Photo pixels whose detail band no hole's fill reaches (3 sigma away) ...
    far = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5) > np.ceil(3 * SIGMA) + 1
    source = far & (cv2.distanceTransform((~thick).astype(np.uint8), cv2.DIST_L2, 5) <= RING)
    if source.sum() < 4 * BLOCK * BLOCK:  # ... in a ring around this hole, or anywhere near it
        source = far
    if source.sum() < BLOCK * BLOCK:
        return
    # Top-left corners of blocks lying wholly in the source area, less the busy ones; the
    # grain asked for is measured on the calm blocks too, so specks do not inflate it.
    whole = cv2.erode(source.astype(np.uint8), np.ones((BLOCK, BLOCK), np.uint8), anchor=(0, 0),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)
    sy, sx = np.nonzero(whole)
    if sy.size == 0:
        return
    block_energy = cv2.boxFilter((detail ** 2).mean(axis=2), -1, (BLOCK, BLOCK), anchor=(0, 0),
                                 normalize=True, borderType=cv2.BORDER_CONSTANT)[sy, sx]
    calm = block_energy <= OUTLIER * float(np.median(block_energy))
    sy, sx = sy[calm], sx[calm]
    wanted = strength * float(block_energy[calm].mean())
    deficit = wanted - float((detail[interior] ** 2).mean())
    if deficit <= 0:
        return
    synthesized = _tile_detail(detail, fade > 0, sy, sx, rng)
    energy = float((synthesized[interior] ** 2).mean())
    if energy <= 0:
        return
    synthesized *= (np.sqrt(deficit / energy) * fade)[..., None]
    out[thick] = np.clip(out[thick] + synthesized[thick], 0.0, 1.0)


def _tile_detail(detail: np.ndarray, where: np.ndarray, sy: np.ndarray, sx: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Overlap-add of source blocks over every block touching ``where`` (four half-block phases,
    each a plain grid), normalised by the summed squared window so the energy is kept."""
    height, width = where.shape
    channels = detail.shape[2]
    b, half = BLOCK, BLOCK // 2
    window = np.hanning(b + 2)[1:-1].astype(np.float32)
    window = np.outer(window, window)
    # A canvas with a block of margin on every side, so every phase's grid starts at 0..half.
    canvas_h, canvas_w = height + 2 * b, width + 2 * b
    where_canvas = np.zeros((canvas_h, canvas_w), bool)
    where_canvas[b:b + height, b:b + width] = where
    acc = np.zeros((canvas_h, canvas_w, channels), np.float32)
    weight = np.zeros((canvas_h, canvas_w), np.float32)
    steps = np.arange(b)
    for oy in (0, half):
        for ox in (0, half):
            rows, cols = (canvas_h - oy) // b, (canvas_w - ox) // b
            area = (slice(oy, oy + rows * b), slice(ox, ox + cols * b))
            present = where_canvas[area].reshape(rows, b, cols, b).any(axis=(1, 3))
            iy, ix = np.nonzero(present)
            if iy.size == 0:
                continue
            # Destination block centres in window coordinates; take the nearest of a few
            # random source blocks, so the texture comes from close by.
            cy = oy + iy * b - b + half
            cx = ox + ix * b - b + half
            pick = rng.integers(0, sy.size, (iy.size, _CANDIDATES))
            distance = (sy[pick] + half - cy[:, None]) ** 2 + (sx[pick] + half - cx[:, None]) ** 2
            chosen = pick[np.arange(iy.size), distance.argmin(axis=1)]
            patches = detail[sy[chosen][:, None, None] + steps[None, :, None],
                             sx[chosen][:, None, None] + steps[None, None, :]]
            # Grain has no direction: flip and transpose blocks at random, so a block used for
            # several destinations does not show up as the same mark repeated.
            flips = rng.random((3, iy.size)) < 0.5
            patches[flips[0]] = patches[flips[0]][:, ::-1]
            patches[flips[1]] = patches[flips[1]][:, :, ::-1]
            patches[flips[2]] = patches[flips[2]].transpose(0, 2, 1, 3)
            # The phase's blocks do not overlap: add them through a block-shaped view.
            acc[area].reshape(rows, b, cols, b, channels)[iy, :, ix] += patches * window[None, :, :, None]
            weight[area].reshape(rows, b, cols, b)[iy, :, ix] += window ** 2
    acc /= np.sqrt(np.maximum(weight, 1e-6))[..., None]
    return acc[b:b + height, b:b + width]
