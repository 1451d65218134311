"""Texture from the photo itself: the fine detail of a learned fill, copied from its surroundings.

A learned fill predicts the most likely content of a hole, which is smooth: grain, bark, grass
and stone cannot be predicted, only their colours and shapes. :func:`match_texture` keeps the
network's fill below a Gaussian of :data:`SIGMA` (its colours, shading and edges) and adds
the fine band above it from the photo: for patches laid over the hole, the known patch of the
surroundings whose coarse band (a Gaussian of :data:`GUIDE_SIGMA`) looks most like the fill's
there, and whose fine-detail energy is most like the energy just outside the hole nearest to
it, gives its fine band. Patches are chosen in four interleaved passes, each also matched on
what the earlier passes (and the photo at the hole's edge) put in its overlap, so neighbours
continue each other instead of meeting at a seam; a random choice among the few best keeps a
flat area from repeating one patch, and nearby sources are preferred. The copied band is then
scaled down, place by place, where the fill's interior would carry more than ``strength`` times
the fine-detail energy of the photo next to it.

Why not noise: the random-phase grain of :mod:`.grain` has the surroundings' spectrum but no
structure (no strands, no blades, no direction), so a texture measure still tells it from the
photo; copied detail has the photo's own statistics. Why guided: an earlier matcher copied
blocks of the ring around a hole unguided and carried edges and lettering into large holes as
tiles (models/HISTORY.md); here a patch must fit the network's shapes and the local energy,
and patches much busier than the typical one (an edge, a dust speck nobody masked) are never
sources. Holes with too little known photo around them get the random-phase grain instead.

The engine uses it for every learned fill (methods.OnnxFill, the request's ``grain``);
benchmarks/texture_fill.py measures it against the grain, PatchMatch and the plain fill.
"""

from __future__ import annotations

import cv2
import numpy as np

from .grain import FADE, hole_windows, match_grain

SIGMA = 1.5  # pixels: the fine band taken from the photo (the network keeps what is below)
#: Pixels: the coarse band exemplars are matched on. Matched on a finer one, the smooth fill
#: looked most like flat patches, and the copied detail came out too faint.
GUIDE_SIGMA = 4.0
PATCH = 16  # pixels: side of the copied patches; they overlap by half
FEATURE_STEP = 4  # pixels between the guide samples compared in a patch
OVERLAP_STEP = 2  # pixels between the fine-detail samples compared in an overlap
#: Weight of the (log) fine-detail energy among the guide's colours: how much a patch must be
#: as busy as the photo next to the place it goes. Without it, the patches that best match a
#: smooth fill are the flat ones (in a first version of this step, blobs' texture distance 0.38
#: instead of 0.32 on 12 of the validation photos; benchmarks/texture_fill.py measures this one).
ENERGY_WEIGHT = 0.15
ENERGY_SIGMA = 4.0  # pixels: the scale the local fine-detail energy is measured at
#: Where a patch comes from counts too: a source LOCALITY_SCALE pixels away costs as much as
#: LOCALITY in the guide's squared units. Without it, one best patch was copied over a whole
#: flat area (haze beside a tree) and showed as a grid of dots; with it, torn corners' texture
#: distance went from 0.41 to 0.39 (with the gain limit at 2).
LOCALITY = 0.05
LOCALITY_SCALE = 64.0
#: Source patches a hole's patches are matched against (a seeded sample): 5,000 to 20,000
#: gave the same numbers; the cap bounds the work on a large scan.
CANDIDATES = 6_000
CHOICES = 4  # each patch takes one of this many best matches, at random
#: Source patches with more than this many times the median source's energy are left out:
#: an edge or a dust speck nobody masked is no texture.
OUTLIER = 4.0
#: Source patches whose most detailed spot (the detail energy blurred by SIGMA) is more than
#: this many times the patch's mean are left out: a speck or a single line on a calm patch,
#: which copies as a dot or a dash.
PEAK = 6.0
#: The copied band is scaled down where it is busier than asked, never up: patches calmer than
#: the photo next to them, amplified, looked mottled, and on torn corners doubling the limit
#: cost hole-SSIM 0.450 -> 0.434 for a texture distance of 0.39 instead of 0.41.
MAX_GAIN = 1.0
MIN_SOURCES = 64  # fewer source patches than this: the hole gets the random-phase grain
#: Known pixels around a hole (beyond its box) that sources and energies are taken from.
CONTEXT = 96
_CHUNK = 256  # target patches per distance matrix (256 x CANDIDATES float32: 6 MB)


def match_texture(photo: np.ndarray, fill: np.ndarray, hole: np.ndarray, strength: float,
                  rng: np.random.Generator, targets: np.ndarray | None = None,
                  no_source: np.ndarray | None = None) -> np.ndarray:
    """``fill`` with the photo's own fine detail added inside ``hole``, up to ``strength`` x
    the fine-detail energy of the photo next to each place.

    Arrays as :func:`.grain.match_grain` takes them (float32 H x W x C in [0, 1], bool hole,
    optional bool ``targets`` limiting the work to the holes touching it), and the same
    guarantees: equal to ``fill`` outside the hole; each connected hole worked in a window
    around it with its own random stream, so other holes change nothing in it; hairlines and
    fills already as detailed as asked stay as they are. A hole with too few known patches
    around it gets :func:`.grain.match_grain`'s grain instead. No patch that touches a
    ``no_source`` pixel (bool, the photo's shape) is ever a source: source control, so a face
    or lettering is not cloned into the hole beside it.
    """
    hole = hole.astype(bool)
    out = fill.astype(np.float32, copy=True)
    if strength <= 0 or not hole.any() or hole.all():
        return out
    found = hole_windows(hole, targets, CONTEXT + PATCH + int(np.ceil(3 * SIGMA)), rng)
    if found is None:
        return out
    stream, holes = found
    without_sources = np.zeros(hole.shape, bool)
    for window, own, depth, hole_rng in holes:
        kept = no_source[window] if no_source is not None else None
        if not _add_texture(out[window], photo[window], hole[window], own, depth, strength, hole_rng, kept):
            without_sources[window] |= own
    if without_sources.any():
        out = match_grain(photo, out, hole, strength, np.random.default_rng([stream, 1]), targets=without_sources)
    return out


def _luma(values: np.ndarray) -> np.ndarray:
    if values.shape[2] == 3:
        return values @ np.array([0.299, 0.587, 0.114], np.float32)
    return values.mean(axis=2)


def _add_texture(out: np.ndarray, photo: np.ndarray, hole: np.ndarray, thick: np.ndarray, depth: np.ndarray,
                 strength: float, rng: np.random.Generator, no_source: np.ndarray | None = None) -> bool:
    """Add copied detail in place to ``out`` (a window of the filled crop) inside the one hole
    ``thick``; ``hole`` holds every hole in the window, and ``no_source`` the pixels the user
    kept out of copying (neither is a source). False when the window has too few source
    patches (nothing was changed)."""
    height, width, channels = out.shape
    p = PATCH
    if height < p or width < p:
        return False
    composite = np.where(hole[..., None], out, photo.astype(np.float32))
    guide = cv2.GaussianBlur(composite, (0, 0), GUIDE_SIGMA).reshape(height, width, channels)
    detail = (composite - cv2.GaussianBlur(composite, (0, 0), SIGMA)).reshape(height, width, channels)
    detail_luma = _luma(detail)
    # Photo pixels whose detail band no hole's fill reaches (3 sigma away).
    pure = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5) > np.ceil(3 * SIGMA) + 1
    log_energy = _expected_log_energy(detail_luma, pure)
    if log_energy is None:
        return False
    sources_ok = pure if no_source is None else pure & ~no_source
    sy, sx = _sources(sources_ok, log_energy, detail_luma, rng)
    if sy.size < MIN_SOURCES:
        return False
    ty, tx, parity = _targets(thick, height, width)
    centre = p // 2
    guide_at = np.arange(FEATURE_STEP // 2, p, FEATURE_STEP)
    gy, gx = (a.ravel() for a in np.meshgrid(guide_at, guide_at, indexing="ij"))
    overlap_at = np.arange(0, p, OVERLAP_STEP)
    oy, ox = (a.ravel() for a in np.meshgrid(overlap_at, overlap_at, indexing="ij"))

    def sample(image, y, x, dy, dx):
        return image[y[:, None] + dy[None], x[:, None] + dx[None]].reshape(len(y), -1)

    # Where a patch lies is compared too (a squared distance of LOCALITY_SCALE costs LOCALITY).
    place = np.float32(np.sqrt(LOCALITY) / LOCALITY_SCALE)
    source_fixed = np.concatenate([sample(guide, sy, sx, gy, gx),
                                   ENERGY_WEIGHT * log_energy[sy + centre, sx + centre, None],
                                   place * np.stack([sy, sx], axis=1)], axis=1).astype(np.float32)
    target_fixed = np.concatenate([sample(guide, ty, tx, gy, gx),
                                   ENERGY_WEIGHT * log_energy[ty + centre, tx + centre, None],
                                   place * np.stack([ty, tx], axis=1)], axis=1).astype(np.float32)
    source_overlap = sample(detail_luma, sy, sx, oy, ox)
    # Squared distances over the compared samples only, as one product per chunk of targets:
    # |s|^2 over the overlap's known samples, -2 t.s over all; |t|^2 is the same for every source.
    sources = np.concatenate([source_overlap * source_overlap, source_fixed, source_overlap], axis=1)
    fixed_cost = (source_fixed * source_fixed).sum(axis=1)
    window = np.sin(np.pi * (np.arange(p) + 0.5) / p) ** 2
    window = np.outer(window, window).astype(np.float32)
    band = np.zeros((height, width, channels), np.float32)
    weight = np.zeros((height, width), np.float32)
    # What the overlaps are matched against: the photo's own detail at the hole's edge, then
    # the (luma of the) detail the earlier passes placed inside the hole.
    placed_luma = np.where(pure, detail_luma, 0.0).astype(np.float32)
    placed = pure.astype(np.float32)
    for phase in range(4):
        chosen = np.flatnonzero(parity == phase)
        if chosen.size == 0:
            continue
        py, px = ty[chosen], tx[chosen]
        known = (sample(placed, py, px, oy, ox) > 1e-3).astype(np.float32)
        current = sample(placed_luma / np.maximum(placed, 1e-6), py, px, oy, ox) * known
        wanted = np.concatenate([known, -2.0 * target_fixed[chosen], -2.0 * current], axis=1)
        best = np.empty(chosen.size, np.int64)
        for start in range(0, chosen.size, _CHUNK):
            part = slice(start, start + _CHUNK)
            distance = wanted[part] @ sources.T + fixed_cost
            picks = np.argpartition(distance, CHOICES - 1, axis=1)[:, :CHOICES]
            best[part] = picks[np.arange(picks.shape[0]), rng.integers(0, CHOICES, picks.shape[0])]
        inside = ~pure
        for y, x, qy, qx in zip(py, px, sy[best], sx[best]):
            target = (slice(y, y + p), slice(x, x + p))
            band[target] += window[..., None] * detail[qy:qy + p, qx:qx + p]
            weight[target] += window
            fresh = inside[target]
            placed_luma[target][fresh] += (window * detail_luma[qy:qy + p, qx:qx + p])[fresh]
            placed[target][fresh] += window[fresh]
    band /= np.maximum(weight, 1e-6)[..., None]
    # As busy as the photo next to each place, less what the fill already has there.
    energy = lambda a: cv2.GaussianBlur(a, (0, 0), ENERGY_SIGMA)  # noqa: E731
    wanted_energy = np.maximum(strength * np.exp(log_energy) - energy(detail_luma ** 2), 0.0)
    gain = np.sqrt(wanted_energy / np.maximum(energy(_luma(band) ** 2), 1e-12))
    gain = cv2.GaussianBlur(np.minimum(gain, MAX_GAIN), (0, 0), ENERGY_SIGMA)
    fade = np.where(thick, np.clip((depth - 1.0) / FADE, 0.0, 1.0), 0.0).astype(np.float32)
    where = fade > 0
    out[where] = np.clip(out[where] + (band[where] * (gain * fade)[where][:, None]), 0.0, 1.0)
    return True


def _expected_log_energy(detail_luma: np.ndarray, pure: np.ndarray) -> np.ndarray | None:
    """Log of the local fine-detail energy: measured where the photo is known (``pure``),
    and carried into the holes from their edges (Telea's fill at a quarter size: it varies
    slowly). None when nothing is known."""
    height, width = pure.shape
    known_share = cv2.GaussianBlur(pure.astype(np.float32), (0, 0), ENERGY_SIGMA)
    energy = cv2.GaussianBlur(detail_luma * detail_luma * pure, (0, 0), ENERGY_SIGMA)
    known = known_share > 0.5
    if not known.any():
        return None
    measured = np.log(energy / np.maximum(known_share, 1e-6) + 1e-10).astype(np.float32)
    small = (max(1, width // 4), max(1, height // 4))
    known_small = cv2.resize(known.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0.99
    if not known_small.any():
        return None
    values_small = cv2.resize(np.where(known, measured, 0.0).astype(np.float32), small, interpolation=cv2.INTER_AREA)
    if not known_small.all():
        values_small = cv2.inpaint(values_small, (~known_small).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    carried = cv2.resize(values_small, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.where(known, measured, carried).astype(np.float32)


def _sources(pure: np.ndarray, log_energy: np.ndarray, detail_luma: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners (every second pixel) of the patches lying wholly in known photo, less
    the busy ones (:data:`OUTLIER`) and those whose detail is one spot (:data:`PEAK`), at most
    :data:`CANDIDATES` of them (a seeded sample)."""
    p = PATCH
    height, width = pure.shape
    whole = cv2.erode(pure.astype(np.uint8), np.ones((p, p), np.uint8), anchor=(0, 0),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)
    whole[height - p + 1:, :] = 0
    whole[:, width - p + 1:] = 0
    sy, sx = np.nonzero(whole[::2, ::2])
    sy, sx = 2 * sy, 2 * sx
    if sy.size == 0:
        return sy, sx
    busy = log_energy[sy + p // 2, sx + p // 2]
    calm = busy <= np.log(OUTLIER) + np.median(busy)
    squared = detail_luma * detail_luma
    mean = cv2.boxFilter(squared, -1, (p, p), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    peak = cv2.dilate(cv2.GaussianBlur(squared, (0, 0), SIGMA), np.ones((p, p), np.uint8), anchor=(0, 0))
    calm &= peak[sy, sx] <= PEAK * mean[sy, sx] + 1e-12
    sy, sx = sy[calm], sx[calm]
    if sy.size > CANDIDATES:
        keep = np.sort(rng.choice(sy.size, CANDIDATES, replace=False))
        sy, sx = sy[keep], sx[keep]
    return sy, sx


def _targets(thick: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-left corners of the patches laid over the hole ``thick`` (a grid at half a patch),
    and each one's pass (0-3): patches of one pass never overlap each other."""
    p, step = PATCH, PATCH // 2
    ys, xs = np.nonzero(thick)
    rows = np.unique(np.clip(np.arange(max(0, ys.min() - step), ys.max() + 1, step), 0, height - p))
    cols = np.unique(np.clip(np.arange(max(0, xs.min() - step), xs.max() + 1, step), 0, width - p))
    iy, ix = (a.ravel() for a in np.meshgrid(np.arange(rows.size), np.arange(cols.size), indexing="ij"))
    ty, tx = rows[iy], cols[ix]
    counts = cv2.integral(thick.astype(np.uint8))
    touched = (counts[ty + p, tx + p] - counts[ty, tx + p] - counts[ty + p, tx] + counts[ty, tx]) > 0
    return ty[touched], tx[touched], (2 * (iy % 2) + ix % 2)[touched]
