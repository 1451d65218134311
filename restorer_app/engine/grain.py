"""Grain matching: give a smooth fill the fine texture of the photo around it.

A learned (or classical) fill predicts what is most likely in a hole, which is smooth: film
grain, paper texture and the finest detail of foliage or stone cannot be predicted, so they are
missing, and a restorer sees a plastic-looking patch in a grainy scan. Restorers fix that by
hand by adding grain; :func:`match_grain` does it from the photo itself.

How: the photo's fine detail (the difference to a Gaussian blur of ``sigma``) is measured in a
ring around the hole, in blocks; blocks far busier than the typical one (an edge, a dust speck
nobody masked) are set aside. Where the fill's interior has less of it than ``strength`` times
the typical (median) calm block's, noise with the power spectrum and colour covariance of the
calmer blocks (a random-phase texture) is added, as strong at each place as the calm ring
nearest to it, scaled to make up the difference and faded in over the first pixel from the
hole's edge. Only the fine band is added,
so the fill's colours and shapes stay the model's. Nothing is copied: copying blocks of the
ring carried bits of edges into large holes as visible tiles and maze-like marks (models/HISTORY.md).

The added detail is not the photo's lost detail: it raises how natural the fill looks and
lowers hole-PSNR a little (the model card measures both). ``strength`` 1 matches the
surroundings' fine-detail energy; 0 leaves the fill as it is.

Learned fills now take their fine detail from the photo itself (texture.py), which a texture
measure cannot tell from the photo's as easily; the engine uses this grain for the holes with
too little known photo around them to copy from.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA = 1.5  # pixels: the scale of "fine detail" (grain, paper, the finest texture)
BLOCK = 16  # pixels: side of the blocks the grain is measured in
RING = 32  # pixels: how far around the hole the texture is measured and taken from
#: Pixels over which the added detail fades in from the hole's edge; holes with no pixel farther
#: than one more than this from their edge (hairlines up to 2 px wide) get none. A 4 px fade kept
#: lines up to ~9 px wide out too, for hole-PSNR; but a smooth 3-pixel line through
#: foliage or gravel stays visible with every method, and with grain it does not (models/HISTORY.md:
#: scratches +1.07 -> +0.78 dB over the classical fills, still above the +0.5 goal).
FADE = 1.0
_SAMPLES = 64  # calm blocks whose spectrum and colours the grain imitates
_TILE = 64  # pixels: the grain is made for the tiles of this size that a hole touches
#: Blocks with more than this many times the median block's detail energy are left out of the
#: grain's spectrum, colours and strength: they hold an edge, or dust and scratches nobody
#: masked, and neither is grain.
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
    found = hole_windows(hole, targets, RING + BLOCK + int(np.ceil(3 * SIGMA)), rng)
    for window, own, depth, hole_rng in (found[1] if found else ()):
        _add_grain(out[window], photo[window], hole[window], own, depth, strength, hole_rng)
    return out


def hole_windows(hole: np.ndarray, targets: np.ndarray | None, pad: int, rng: np.random.Generator):
    """The connected holes of ``hole`` with pixels deeper than :data:`FADE` from the edge (and,
    with ``targets``, touching it), each as (window: slices of the hole's box grown by ``pad``,
    the hole's own pixels in the window, the distance to the edge in the window, its own random
    stream), with the stream they were drawn from; None when there are none (hairlines only:
    checked first, it is cheap, and ``rng`` is then left untouched)."""
    hole_u8 = hole.astype(np.uint8)
    depth = cv2.distanceTransform(hole_u8, cv2.DIST_L2, 5)
    interior = depth >= 1.0 + FADE
    if targets is not None:
        interior &= targets
    if not interior.any():
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(hole_u8, connectivity=8)
    stream = int(rng.integers(2**62))
    holes = []
    for label in np.unique(labels[interior]):
        x, y, w, h = (int(v) for v in stats[label, :4])
        window = (slice(max(0, y - pad), y + h + pad), slice(max(0, x - pad), x + w + pad))
        holes.append((window, labels[window] == label, depth[window], np.random.default_rng([stream, y, x])))
    return stream, holes


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
    # Blocks lying wholly in the source area (top-left corners), less the busy ones: an edge,
    # or a dust speck nobody masked, is no part of the grain, for measuring or for imitating.
    whole = cv2.erode(source.astype(np.uint8), np.ones((BLOCK, BLOCK), np.uint8), anchor=(0, 0),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)
    sy, sx = np.nonzero(whole)
    if sy.size == 0:
        return
    pixel_energy = (detail ** 2).mean(axis=2)
    block_energy = cv2.boxFilter(pixel_energy, -1, (BLOCK, BLOCK), anchor=(0, 0), normalize=True,
                                 borderType=cv2.BORDER_CONSTANT)
    energies = block_energy[sy, sx]
    calm = energies <= OUTLIER * float(np.median(energies))
    sy, sx, energies = sy[calm], sx[calm], energies[calm]
    # The typical calm block's energy is the photo's grain; the mean would count the faint edges
    # that many blocks still hold.
    typical = float(np.median(energies))
    wanted = strength * typical
    deficit = wanted - float((detail[interior] ** 2).mean())
    if deficit <= 0 or wanted <= 0:
        return
    # The grain's look (spectrum, colours) is taken from the calmer half of the blocks: faint
    # edges put their energy at lower frequencies and would make the grain blotchy.
    calmer = np.flatnonzero(energies <= typical)
    picked = calmer[rng.choice(calmer.size, min(calmer.size, _SAMPLES), replace=False)]
    blocks = detail[sy[picked][:, None, None] + np.arange(BLOCK)[None, :, None],
                    sx[picked][:, None, None] + np.arange(BLOCK)[None, None, :]]  # N x B x B x C
    where = fade > 0
    synthesized = _random_phase(blocks, where, rng)[where]  # the hole's pixels, N x C
    # As busy as the calm photo nearest to each place: the calm blocks' energy, spread into the
    # hole (normalised convolution, worked out at a quarter size: it varies slowly), the typical
    # energy where no block is near.
    # (Block energies count up to twice the typical one here: near an edge the photo is busier,
    # its grain is not.)
    height, width = where.shape
    small = (max(1, width // 4), max(1, height // 4))
    calm_at, energy_at = np.zeros(where.shape, np.float32), np.zeros(where.shape, np.float32)
    calm_at[sy + BLOCK // 2, sx + BLOCK // 2] = 1.0
    energy_at[sy + BLOCK // 2, sx + BLOCK // 2] = np.minimum(energies, 2 * typical)
    spread = lambda a: cv2.GaussianBlur(cv2.resize(a, small, interpolation=cv2.INTER_AREA), (0, 0), BLOCK / 4)  # noqa: E731
    prior = 1e-4  # the weight of the typical energy: it decides only far from every calm block
    local = cv2.resize((spread(energy_at) + prior * typical) / (spread(calm_at) + prior), (width, height),
                       interpolation=cv2.INTER_LINEAR)[where]
    synthesized *= np.sqrt(np.maximum(local, 0.0) / typical)[:, None]
    inside = interior[where]
    energy = float((synthesized[inside] ** 2).mean()) if inside.any() else 0.0
    if energy <= 0:
        return
    synthesized *= (np.sqrt(deficit / energy) * fade[where])[:, None]
    out[where] = np.clip(out[where] + synthesized, 0.0, 1.0)


def _random_phase(blocks: np.ndarray, where: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise with the blocks' power spectrum and colour covariance over the :data:`_TILE`-sized
    tiles that ``where`` touches (zero elsewhere), unit mean energy per pixel before scaling: a
    random-phase texture.

    The spectrum is averaged over the (Hann-windowed) luminance of the blocks and over all
    directions; white noise filtered by the kernel whose spectrum is its square root has that
    spectrum. As many such fields as channels, mixed by the Cholesky factor of the channels'
    covariance, give the colour of the grain (film grain is mostly, not only, in the luminance).
    Nothing of the blocks is copied, so no edge or speck can be, and no block grid can show.
    Each tile gets its own white noise: grain is correlated over a few pixels only, so tiles
    meet without a visible seam, and the work follows the damage, not the window.
    """
    _, b, _, channels = blocks.shape
    window = np.outer(np.hanning(b + 2)[1:-1], np.hanning(b + 2)[1:-1]).astype(np.float32)
    luma = blocks.mean(axis=3) * window
    power = (np.abs(np.fft.fft2(luma)) ** 2).mean(axis=0)
    # Grain has no direction: average the spectrum over rings of equal frequency, so the lines
    # of a railing or a roof next to the hole do not come out as streaks inside it.
    rings = np.rint(np.hypot(*np.meshgrid(np.fft.fftfreq(b), np.fft.fftfreq(b), indexing="ij")) * b).astype(int)
    power = (np.bincount(rings.ravel(), power.ravel()) / np.bincount(rings.ravel()))[rings]
    kernel = np.fft.fftshift(np.real(np.fft.ifft2(np.sqrt(power)))).astype(np.float32)
    kernel /= max(float(np.sqrt((kernel ** 2).sum())), 1e-12)  # unit white noise -> unit variance
    samples = blocks.reshape(-1, channels).astype(np.float64)
    covariance = samples.T @ samples / samples.shape[0]
    scale = max(float(np.trace(covariance)) / channels, 1e-12)
    # (A grey scan's channels are equal: its covariance is singular, and its grain stays grey.)
    mix = np.linalg.cholesky(covariance / scale + 1e-6 * np.eye(channels))
    height, width = where.shape
    t, margin = _TILE, b // 2
    rows, cols = -(-height // t), -(-width // t)
    touched = np.zeros((rows * t, cols * t), bool)
    touched[:height, :width] = where
    iy, ix = np.nonzero(touched.reshape(rows, t, cols, t).any(axis=(1, 3)))
    # The touched tiles, each with a margin for the kernel, stacked into one tall strip that
    # OpenCV filters in one call per channel; only the tiles' centres are kept.
    side = t + 2 * margin
    white = rng.standard_normal((channels, iy.size * side, side), dtype=np.float32)
    shaped = [cv2.filter2D(w, -1, kernel, borderType=cv2.BORDER_REFLECT).reshape(iy.size, side, side)[
        :, margin:margin + t, margin:margin + t] for w in white]
    field = np.zeros((rows * t, cols * t, channels), np.float32)
    tiles = field.reshape(rows, t, cols, t, channels)
    for c in range(channels):
        tiles[iy, :, ix, :, c] = sum(float(mix[c, j]) * shaped[j] for j in range(c + 1))
    return field[:height, :width]
