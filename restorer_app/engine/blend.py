"""Seamless fills: match a learned fill's colour and brightness to its surroundings, and
measure how visible the seam is.

Learned fills can come out slightly tinted or darker than the photo around them, which
restorers spot at once. ``harmonize_fill`` measures the low-frequency mismatch along the
hole's edge (the fill's pixels just inside against the photo's just outside), spreads that
correction smoothly over the hole and adds it. Edges and texture inside the fill are kept;
only a slowly varying offset changes. Pixels outside the hole are never touched.
"""

from __future__ import annotations

import cv2
import numpy as np

from .tensors import max_value

_BAND = 1  # pixels on each side of the edge that are compared
_WINDOW = 25  # along the edge, colours are compared as local means over this many pixels


def _box_mean(values: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Weighted local mean (normalised box filter); 0 where no weight is near."""
    kernel = (size, size)
    num = cv2.boxFilter(values * weights[..., None], -1, kernel, normalize=False, borderType=cv2.BORDER_CONSTANT)
    den = cv2.boxFilter(weights, -1, kernel, normalize=False, borderType=cv2.BORDER_CONSTANT)
    return num / np.maximum(den, 1e-6)[..., None], den


def harmonize_fill(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``fill`` (float32 H x W x 3 in [0, 1]) with its edge matched to ``photo`` around ``hole``.

    ``photo`` is the same crop with known pixels outside ``hole`` (bool H x W); its hole
    pixels are ignored. Returns a new array; values outside ``hole`` equal ``fill``'s.
    """
    hole = hole.astype(bool)
    if not hole.any() or hole.all():
        return fill.copy()
    hole_u8 = hole.astype(np.uint8)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _BAND + 1, 2 * _BAND + 1))
    inner = hole & ~cv2.erode(hole_u8, disk, borderType=cv2.BORDER_CONSTANT, borderValue=1).astype(bool)
    outer = cv2.dilate(hole_u8, disk).astype(bool) & ~hole
    size = _WINDOW
    outside_mean, outside_weight = _box_mean(photo.astype(np.float32), outer.astype(np.float32), size)
    inside_mean, _ = _box_mean(fill.astype(np.float32), inner.astype(np.float32), size)
    # The correction is known on the inner band where photo pixels are near; elsewhere in
    # the hole it is spread smoothly (Navier-Stokes diffusion of each channel).
    known = inner & (outside_weight > 0)
    if not known.any():
        return fill.copy()
    correction = np.where(known[..., None], outside_mean - inside_mean, 0.0).astype(np.float32)
    # Outside the hole the correction only serves as the diffusion's boundary: a smooth
    # extension of the band's values, so only the hole's interior needs diffusing.
    extended, reach = _box_mean(correction, known.astype(np.float32), size)
    correction = np.where(known[..., None], correction,
                          np.where((~hole & (reach > 0))[..., None], extended, 0.0)).astype(np.float32)
    unknown = (hole & ~known).astype(np.uint8)
    spread = np.empty_like(correction)
    for channel in range(correction.shape[2]):
        spread[..., channel] = cv2.inpaint(correction[..., channel], unknown, 3, cv2.INPAINT_NS)
    out = fill.astype(np.float32).copy()
    out[hole] = np.clip(out[hole] + spread[hole], 0.0, 1.0)
    return out


#: Luma weights (Rec. 601) used to split colour from brightness.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: A crop whose known pixels' colour is predicted from their brightness this well (RMS, on the
#: 0-1 scale; about 4 levels in 8 bits) is monochrome or toned: grey, sepia, cyanotype.
TONED_RMS = 0.016
_TONE_SAMPLES = 100_000  # about how many pixels of the crop (a regular grid) the fit reads


def match_tone(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """On a monochrome or toned scan, give ``fill`` the photo's own tone.

    A learned fill was taught on colour photographs, and on a sepia or black-and-white scan it
    can come out with a faint colour cast of its own (bluish, greenish), which is plain to see
    there. Here each channel's offset from the brightness, over the known pixels, is fitted as a
    quadratic in the brightness; when that fit explains them (RMS under :data:`TONED_RMS`) the
    crop has one tone, and the hole's pixels get the fitted offsets at the fill's own
    brightness, which keeps the fill's brightness, edges and texture exactly and only takes the
    colour cast away. Colour photos (the fit fails) come back unchanged. Arrays as in
    :func:`harmonize_fill`.
    """
    hole = hole.astype(bool)
    out = fill.astype(np.float32, copy=True)
    if not hole.any():
        return out
    # A regular grid of at most about _TONE_SAMPLES pixels: a crop can be a whole 60 MP scan.
    step = max(1, int(np.ceil(np.sqrt(hole.size / _TONE_SAMPLES))))
    pixels = photo[::step, ::step][~hole[::step, ::step]].astype(np.float32)
    if len(pixels) < 64:
        return out
    luma = pixels @ _LUMA
    # The colour is fitted as each channel's offset from the brightness; the offsets' weighted
    # sum is zero, so the fit's is too and the fill's brightness is kept exactly. Brightness
    # outside the range the photo shows is read at the range's end, not extrapolated.
    basis = lambda y: np.stack([np.ones_like(y), y, y * y], axis=1)  # noqa: E731
    offsets = pixels - luma[:, None]
    known_basis = basis(luma)
    coefficients = np.linalg.lstsq(known_basis, offsets, rcond=None)[0]
    if float(np.sqrt(((known_basis @ coefficients - offsets) ** 2).mean())) > TONED_RMS:
        return out  # a colour photo
    fill_luma = out[hole] @ _LUMA
    toned = fill_luma[:, None] + basis(np.clip(fill_luma, luma.min(), luma.max())) @ coefficients
    out[hole] = np.clip(toned, 0.0, 1.0)
    return out


def seam_score(image: np.ndarray, hole: np.ndarray) -> float:
    """How visible the hole's edge is: the mean colour step across the edge divided by the
    mean step between neighbouring pixels just outside it. About 1 means seamless; a fill
    that is tinted or smeared against sharp surroundings scores higher (or much lower)."""
    hole = hole.astype(bool)
    img = image.astype(np.float32)
    if img.ndim == 2:
        img = img[..., None]
    around = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=4).astype(bool)
    cross, ring = [], []
    for dy, dx in ((0, 1), (1, 0)):
        a = img[: img.shape[0] - dy, : img.shape[1] - dx]
        b = img[dy:, dx:]
        ha, hb = hole[: hole.shape[0] - dy, : hole.shape[1] - dx], hole[dy:, dx:]
        ra, rb = around[: around.shape[0] - dy, : around.shape[1] - dx], around[dy:, dx:]
        step = np.abs(a - b).sum(axis=-1)
        cross.append(step[ha != hb])
        ring.append(step[~ha & ~hb & ra & rb])
    cross_all, ring_all = np.concatenate(cross), np.concatenate(ring)
    if cross_all.size == 0 or ring_all.size == 0:
        return 1.0
    return float(cross_all.mean() / max(ring_all.mean(), 1e-6))


#: The soft edge reaches at most this share of the way from a hole's edge to its middle, so
#: the middle of every hole - where a stroke painted over a scratch has the scratch - is pure
#: fill, whatever soft edge was asked for.
SOFT_EDGE_REACH = 1.0 / 3.0


def soft_edge_weight(hole: np.ndarray, width: int) -> np.ndarray:
    """float32 H x W: how much of the fill each hole pixel takes (0 outside the hole, 1 = all
    fill). Over the outer ``width`` pixels it rises from mostly original to all fill, but
    never over more than :data:`SOFT_EDGE_REACH` of the hole's local half-width: a 12 px soft
    edge on a 30 px stroke fades over its outer 5 px on each side and leaves the middle 20 px
    all fill, so damage under the stroke never shows through."""
    # OpenCV counts the array's border as far away: a hole reaching the photo's border does
    # not fade there, where there is no original around it to fade into.
    distance = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
    # Local half-width: the deepest distance within reach (the ridge of the hole near each
    # pixel); only where it is under 3 * width can it limit the fade.
    reach = int(np.ceil(width / SOFT_EDGE_REACH)) + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    half_width = cv2.dilate(distance, disk)
    fade = np.minimum(float(width), SOFT_EDGE_REACH * half_width)
    weight = np.clip(distance / (fade + 1.0), 0.0, 1.0)
    return np.where(hole, weight, 0.0).astype(np.float32)


def soften_edge(original: np.ndarray, filled: np.ndarray, hole: np.ndarray, width: int) -> np.ndarray:
    """Blend ``filled`` into ``original`` near the hole's edge, inside the hole only
    (:func:`soft_edge_weight` says how far): a mask painted a little beyond the damage gives a
    soft transition, the damage itself is always replaced, and every pixel outside the hole
    stays exactly as it was. Arrays are H x W x C of the photo's dtype."""
    if width <= 0 or not hole.any():
        return filled
    weight = soft_edge_weight(hole, width)[..., None]
    top = max_value(original.dtype)
    mixed = original.astype(np.float32) * (1.0 - weight) + filled.astype(np.float32) * weight
    out = np.clip(np.rint(mixed), 0, top).astype(original.dtype)
    return np.where(hole[..., None], out, filled)
