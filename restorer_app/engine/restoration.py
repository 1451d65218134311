"""Whole-photo restoration: a ``restore`` model's denoise, de-JPEG and sharpen at strengths the
user sets or Restorer estimates, then a global fade and colour-cast correction.

The photo is never held in float: the model runs tile by tile, each tile converted on its own,
and the restored tiles are written into an output of the photo's own dtype one row of tiles at a
time. Tiles overlap by a margin wider than the network's context, so a tile's edge (where it
lacks context) is never kept; across each cut between neighbours the two tiles cross-fade over
a narrow band, so even a network whose result depends a little on where the tile lies shows no
seam. Only the current row of tiles is held in float.

The colour step corrects fading and casts with one curve per channel, applied as a lookup table
(16-bit stays 16-bit). A model that gives ``curves`` predicts them from the restored photo's
per-channel quantiles (gathered from its histograms while the tiles are written: the photo is
not read twice); for any other model the curve is a classical levels curve from robust
percentiles, whose dead zone leaves a photo that already spans the range unchanged and whose
limits keep a low-key or misty photo from being stretched to a poster.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .detection import detection_tiles
from .errors import ModelError, ModelMissingError, RestorerError
from .kinds import ModelKind
from .photo_models import RestoreRunner
from .progress import Progress
from .registry import LoadedModel, ModelEntry, ModelRegistry
from .regions import Box
from .runtime import Device, Placement
from . import tensors

#: Side of the tiles the model runs on when its manifest gives no ``max_side``.
DEFAULT_TILE = 512
#: Context (px) each tile has beyond the band it contributes to: wider than what the network
#: looks at to restore one pixel, so what it gives there is what a whole-photo run would give.
TILE_CONTEXT = 32
#: Width (px) of the band across each cut where neighbouring tiles cross-fade.
BLEND = 16
#: Sample tiles the strengths are estimated on (native resolution: a scan's noise and JPEG
#: blocks are at the pixel scale, and shrinking the photo would hide them).
SAMPLE_TILE = 256
SAMPLE_COUNT = 6
#: The units of the strengths: denoise 1 = Gaussian noise of this sigma (levels of 255) ...
NOISE_SIGMA_AT_ONE = 30.0
#: ... and noise estimated below this many levels is the photo's own fine texture or 8-bit
#: rounding, not noise to remove.
NOISE_FLOOR = 1.5
#: Blockiness (block-edge luma step over the step inside blocks, minus 1) of clean photos
#: reaches about 0.09; JPEG at quality 10 gives 1.0-1.6, 50 gives 0.2-0.4, 90 gives about 0.
BLOCK_FLOOR = 0.05
BLOCK_SCALE = 0.04
BLOCK_AT_ONE = 1.1
#: Colour levels: percentiles of each channel that become black and white ...
LEVELS_PERCENTILES = (0.005, 0.995)
#: ... a dead zone (share of the range): a black point this close to 0, or a white point this
#: close to the top, is left where it is (a well-exposed photo comes back unchanged) ...
LEVELS_TOLERANCE = 0.02
#: ... the most a black point may drop / a white point rise, and the largest contrast gain.
LEVELS_MAX_SHIFT = 0.45
LEVELS_MAX_GAIN = 2.5

#: The learned colour step: the per-channel quantiles a model's ``tone`` input takes (fractions
#: of the pixels), and how its ``curves`` output (6 numbers in [0, 1], 0.5 = unchanged) maps to a
#: gain exp(TONE_GAIN_RANGE * (2u - 1)) about mid-grey and an offset TONE_OFFSET_RANGE * (2v - 1).
TONE_QUANTILES = (0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.995)
TONE_GAIN_RANGE = 1.5
TONE_OFFSET_RANGE = 0.5
#: Numbers in a ``tone`` input: each channel's quantiles, then their tint.
TONE_FEATURES = 2 * 3 * len(TONE_QUANTILES)

STRENGTH_NAMES = ("denoise", "deblock", "sharpen")
#: What estimated the strengths when the measured blockiness raised the model's deblock level.
MODEL_AND_BLOCKINESS = "model+blockiness"
#: Rows converted, counted or curved at a time.
STRIP = 64


@dataclass(frozen=True)
class RestoreOptions:
    """What the user asked for: a strength in [0, 1] per degradation, or None for ``auto``;
    ``colour`` turns the fade / cast correction on."""

    denoise: float | None = None
    deblock: float | None = None
    sharpen: float | None = None
    colour: bool = True

    def given(self) -> tuple[float | None, float | None, float | None]:
        return self.denoise, self.deblock, self.sharpen

    def check(self) -> None:
        for name, value in zip(STRENGTH_NAMES, self.given()):
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise RestorerError(f"The {name} strength must be between 0 and 1 or automatic (got {value}).")


@dataclass(frozen=True)
class Strengths:
    """Strengths in the model's units: denoise 1 = noise sigma 30/255, deblock 1 = JPEG quality
    10 ((100 - Q) / 90), sharpen 1 = Gaussian blur sigma 3 px."""

    denoise: float = 0.0
    deblock: float = 0.0
    sharpen: float = 0.0

    def values(self) -> tuple[float, float, float]:
        return self.denoise, self.deblock, self.sharpen


@dataclass
class RestoreResult:
    pixels: np.ndarray
    #: The strengths the model ran with.
    strengths: Strengths
    #: Which of them were estimated (``auto``), in the order denoise, deblock, sharpen.
    auto: tuple[bool, bool, bool]
    #: "model" (its ``levels`` output), "model+blockiness" (the model's, with deblock raised to
    #: the measured blockiness), "classical" (noise and blockiness measured), or None when
    #: every strength was given.
    estimated_by: str | None
    colour: bool
    #: The colour step moved some pixel (False when it was off or found nothing to correct).
    colour_changed: bool
    changed_pixels: int
    model: ModelEntry
    placement: Placement
    seconds: float
    notices: list[str] = field(default_factory=list)

    @property
    def provider(self) -> str:
        return self.placement.label


def restore(image, model: LoadedModel, options: RestoreOptions = RestoreOptions(),
            progress: Progress | None = None, tile: int | None = None) -> RestoreResult:
    """``image`` (a :class:`~restorer_app.engine.imageio.RasterImage`) restored by ``model``:
    same size, dtype and channel layout, alpha unchanged. Every tile is a progress step and a
    cancellation point."""
    return PhotoRestorer(model, tile).restore(image.pixels, options, progress)


class PhotoRestorer:
    """Runs a ``restore`` model over a photo of any size in bounded memory."""

    def __init__(self, model: LoadedModel, tile: int | None = None) -> None:
        if model.entry.kind is not ModelKind.RESTORE:
            raise ModelError(f"'{model.entry.id}' is a {model.entry.kind.value} model, not a photo restoration model.")
        self.model = model
        self.runner = RestoreRunner(model)
        entry = model.entry
        multiple = max(1, entry.size_multiple)
        side = tile or entry.max_side or DEFAULT_TILE
        self.tile = max(multiple, side - side % multiple)
        # A model declared for small tiles still runs: its tiles keep half their side inside.
        self.margin = min(TILE_CONTEXT + BLEND // 2, self.tile // 4)
        self.half_blend = min(BLEND // 2, self.margin // 2)
        spec = entry.input("strength")
        self.strength_channels = spec.channels if spec is not None and spec.channels else 3
        self.has_levels = any(spec.name == "levels" for spec in entry.outputs)
        self.has_tone = entry.input("tone") is not None and any(spec.name == "curves" for spec in entry.outputs)
        # Every run of a model with a tone input must feed one; only the colour run reads it.
        self._tone_feed = {"tone": np.zeros(TONE_FEATURES, np.float32)} if self.has_tone else None

    # ------------------------------------------------------------------ strengths

    def estimate(self, pixels: np.ndarray, progress: Progress | None = None) -> tuple[Strengths, str]:
        """The strengths the photo needs, and what said so: "classical" (noise and blockiness
        measured) for a model without ``levels``; else "model", whose deblock estimate is raised
        to the measured blockiness where that is higher (the blockiness measure finds JPEG blocks
        at least as well as the model's estimator on the validation photos, and a missed JPEG
        is left blocky)."""
        progress = progress or Progress()
        boxes = sample_boxes(pixels.shape[0], pixels.shape[1])
        found, own = [], []
        for index, box in enumerate(boxes):
            progress.check_cancelled()
            rgb = tensors.to_float_rgb(pixels[box.slices])
            if self.has_levels:
                zeros = np.zeros(rgb.shape[:2] + (self.strength_channels,), np.float32)
                levels = self.runner.run({"image": rgb, "strength": zeros}, self._tone_feed,
                                         outputs=["levels"])["levels"]
                levels = levels.reshape(-1, levels.shape[-1]).mean(axis=0)[:3].astype(np.float64)
                own.append(levels[1])
                levels[1] = max(levels[1], blockiness_strength(rgb))
                found.append(levels)
            else:
                found.append(classical_levels(rgb))
            progress.report((index + 1) / len(boxes), f"Measured sample {index + 1} of {len(boxes)}")
        median = np.clip(np.median(np.array(found, np.float64), axis=0), 0.0, 1.0)
        if not self.has_levels:
            return Strengths(*(float(v) for v in median)), "classical"
        raised = median[1] > float(np.median(own)) + 1e-6  # the deblock level is the measured blockiness
        return Strengths(*(float(v) for v in median)), MODEL_AND_BLOCKINESS if raised else "model"

    # ------------------------------------------------------------------ restoring

    def restore(self, pixels: np.ndarray, options: RestoreOptions = RestoreOptions(),
                progress: Progress | None = None) -> RestoreResult:
        progress = progress or Progress()
        options.check()
        started = time.perf_counter()
        given = options.given()
        auto = tuple(value is None for value in given)
        estimated_by = None
        if any(auto):
            estimate, estimated_by = self.estimate(pixels, progress.sub(0.0, 0.05))
            given = tuple(e if v is None else v for v, e in zip(given, estimate.values()))
        strengths = Strengths(*(float(v) for v in given))
        output = np.empty_like(pixels)
        histograms = self._run_tiles(pixels, output, strengths, options.colour, progress.sub(0.05, 0.95))
        colour_changed = False
        if options.colour:
            progress.check_cancelled()
            top = tensors.max_value(pixels.dtype)
            curves = self.colour_curves(histograms, top)
            colour_changed = apply_curves(output, curves, histograms)
        changed = count_changed(pixels, output)
        progress.report(1.0, "Restored")
        entry = self.model.entry
        notices = [self.model.runtime.notice] if self.model.runtime.notice else []
        return RestoreResult(output, strengths, auto, estimated_by, options.colour, colour_changed, changed, entry,
                             self.model.runtime.placement, time.perf_counter() - started, notices)

    def colour_curves(self, histograms: list[np.ndarray], top: float) -> list[np.ndarray]:
        """The colour step's lookup tables for a photo with these per-channel histograms: the
        model's curves where it has a colour step, else the classical levels curves."""
        return self.tone_curves(histograms, top) if self.has_tone else levels_curves(histograms, top)

    def tone_curves(self, histograms: list[np.ndarray], top: float) -> list[np.ndarray]:
        """The model's colour curves for a photo with these per-channel histograms."""
        features = tone_features(histograms, top)
        probe = np.full((self.model.entry.size_multiple or 16,) * 2 + (3,), 0.5, np.float32)
        zeros = np.zeros(probe.shape[:2] + (self.strength_channels,), np.float32)
        curves = self.runner.run({"image": probe, "strength": zeros}, {"tone": features}, outputs=["curves"])["curves"]
        return tone_luts(curves.reshape(-1)[:6], len(histograms), top)

    def _strength_map(self, shape: tuple[int, int], strengths: Strengths) -> np.ndarray:
        # A model with one strength channel gets the largest of the three.
        values = strengths.values() if self.strength_channels == 3 else (max(strengths.values()),)
        return np.broadcast_to(np.array(values, np.float32), shape + (len(values),))

    def _run_tiles(self, pixels: np.ndarray, output: np.ndarray, strengths: Strengths, histogram: bool,
                   progress: Progress) -> list[np.ndarray] | None:
        """Restore ``pixels`` into ``output`` one row of tiles at a time; the per-channel
        histograms of the result (for the colour step) when ``histogram``."""
        height, width = pixels.shape[:2]
        top = int(tensors.max_value(pixels.dtype))
        colours = 1 if pixels.shape[2] in (1, 2) else 3
        histograms = [np.zeros(top + 1, np.int64) for _ in range(colours)] if histogram else None
        pairs = detection_tiles(height, width, self.tile, self.margin)
        rows: dict[tuple[int, int], list[tuple[Box, Box]]] = {}
        for tile, kept in pairs:
            rows.setdefault((kept.y0, kept.y1), []).append((tile, kept))
        hb = self.half_blend
        carry: np.ndarray | None = None
        done = 0
        for (ky0, ky1), row in rows.items():
            lo = ky0 - hb if ky0 > 0 else 0
            hi = ky1 + hb if ky1 < height else height
            band = np.zeros((hi - lo, width, 3), np.float32)
            if carry is not None:
                band[:carry.shape[0]] += carry
            for tile, kept in row:
                progress.check_cancelled()
                rgb = tensors.to_float_rgb(pixels[tile.slices])
                strength = self._strength_map(rgb.shape[:2], strengths)
                restored = self.runner.run({"image": rgb, "strength": strength}, self._tone_feed,
                                           outputs=["output"])["output"]
                x0 = kept.x0 - hb if kept.x0 > 0 else 0
                x1 = kept.x1 + hb if kept.x1 < width else width
                weight = np.outer(_fade(lo, hi, ky0, ky1, height, hb), _fade(x0, x1, kept.x0, kept.x1, width, hb))
                part = restored[lo - tile.y0:hi - tile.y0, x0 - tile.x0:x1 - tile.x0]
                band[:, x0:x1] += weight[:, :, None] * np.clip(part, 0.0, 1.0)
                done += 1
                progress.report(done / len(pairs), f"Restored tile {done} of {len(pairs)}")
            finished = hi - lo if hi == height else hi - lo - 2 * hb
            carry = band[finished:].copy() if hi < height else None
            for y in range(0, finished, STRIP):  # in strips: the conversion's temporaries stay small
                end = min(finished, y + STRIP)
                values = tensors.from_float_rgb(band[y:end], pixels[lo + y:lo + end])
                output[lo + y:lo + end] = values
                if histograms is not None:
                    _add_histograms(histograms, values, top)
            del band  # before the next row's is allocated: one row of tiles in float at a time
        return histograms


def _fade(lo: int, hi: int, keep0: int, keep1: int, n: int, hb: int) -> np.ndarray:
    """Weights over ``lo..hi`` of a tile whose kept part is ``keep0..keep1``: linear ramps
    ``2 * hb`` wide centred on each cut shared with a neighbour, which the neighbour's ramp
    complements to exactly 1."""
    position = np.arange(lo, hi, dtype=np.float32) + 0.5
    weight = np.ones(hi - lo, np.float32)
    if hb > 0 and keep0 > 0:
        weight = np.minimum(weight, np.clip((position - (keep0 - hb)) / (2 * hb), 0.0, 1.0))
    if hb > 0 and keep1 < n:
        weight = np.minimum(weight, np.clip(((keep1 + hb) - position) / (2 * hb), 0.0, 1.0))
    return weight


def _add_histograms(histograms: list[np.ndarray], values: np.ndarray, top: int) -> None:
    # Transparent pixels carry no colour worth measuring.
    visible = values[:, :, -1] > 0 if values.shape[2] in (2, 4) else None
    for channel, counts in enumerate(histograms):
        plane = values[:, :, channel]
        counts += np.bincount((plane[visible] if visible is not None else plane).ravel(), minlength=top + 1)


def count_changed(before: np.ndarray, after: np.ndarray, rows: int = STRIP) -> int:
    """Pixels of which some channel differs, counted a strip at a time."""
    return sum(int(np.count_nonzero((before[y:y + rows] != after[y:y + rows]).any(axis=2)))
               for y in range(0, before.shape[0], rows))


# ----------------------------------------------------------------------------- colour

def levels_curves(histograms: list[np.ndarray], top: float) -> list[np.ndarray]:
    """One lookup table per colour channel: its robust black and white points (ignoring
    clipped pixels, which say nothing of the fade) moved to 0 and the top, within the limits."""
    curves = []
    for counts in histograms:
        counts = counts.copy()
        counts[0] = counts[-1] = 0
        total = int(counts.sum())
        identity = np.arange(len(counts), dtype=np.float64)
        if total < 64:
            curves.append(identity.astype(np.uint16 if top > 255 else np.uint8))
            continue
        cumulative = np.cumsum(counts)
        black = float(np.searchsorted(cumulative, LEVELS_PERCENTILES[0] * total))
        white = float(np.searchsorted(cumulative, LEVELS_PERCENTILES[1] * total))
        black = min(max(0.0, black - LEVELS_TOLERANCE * top), LEVELS_MAX_SHIFT * top)
        white = max(min(top, white + LEVELS_TOLERANCE * top), (1.0 - LEVELS_MAX_SHIFT) * top)
        if (white - black) * LEVELS_MAX_GAIN < top:  # a misty or low-key photo keeps some of its look
            middle = (white + black) / 2
            black, white = middle - top / (2 * LEVELS_MAX_GAIN), middle + top / (2 * LEVELS_MAX_GAIN)
        curve = np.clip(np.rint((identity - black) * (top / (white - black))), 0, top)
        curves.append(curve.astype(np.uint16 if top > 255 else np.uint8))
    return curves


def tone_features(histograms: list[np.ndarray], top: float) -> np.ndarray:
    """What a model's ``tone`` input takes: each channel's TONE_QUANTILES (as fractions of the
    range; a grey photo's one channel stands for all three), then the same less their mean over
    the channels (the tint), channel by channel."""
    quantiles = []
    for counts in (histograms if len(histograms) == 3 else [histograms[0]] * 3):
        cumulative = np.cumsum(counts)
        total = max(1, int(cumulative[-1]))
        quantiles.append(np.searchsorted(cumulative, np.array(TONE_QUANTILES) * total) / float(top))
    values = np.array(quantiles, np.float64)  # 3 x Q
    return np.concatenate([values.ravel(), (values - values.mean(axis=0, keepdims=True)).ravel()]).astype(np.float32)


def tone_luts(curves: np.ndarray, channels: int, top: float) -> list[np.ndarray]:
    """Lookup tables for a model's six ``curves`` numbers (a grey photo takes the mean of the
    three channels' curves)."""
    curves = np.clip(np.asarray(curves, np.float64), 0.0, 1.0)
    gain = np.exp(TONE_GAIN_RANGE * (2 * curves[:3] - 1))
    offset = TONE_OFFSET_RANGE * (2 * curves[3:] - 1)
    if channels != 3:
        gain, offset = np.full(channels, gain.mean()), np.full(channels, offset.mean())
    level = np.arange(int(top) + 1, dtype=np.float64) / top
    dtype = np.uint16 if top > 255 else np.uint8
    return [np.clip(np.rint(((level - 0.5) * g + 0.5 + o) * top), 0, top).astype(dtype) for g, o in zip(gain, offset)]


def apply_curves(output: np.ndarray, curves: list[np.ndarray], histograms: list[np.ndarray],
                 rows: int = STRIP) -> bool:
    """Apply the lookup tables to ``output``'s colour channels in place, a strip at a time;
    True when some pixel changed."""
    moved = [bool(((curve != np.arange(len(curve))) & (counts > 0)).any()) for curve, counts in zip(curves, histograms)]
    for channel, (curve, move) in enumerate(zip(curves, moved)):
        if not move:
            continue
        for y in range(0, output.shape[0], rows):
            output[y:y + rows, :, channel] = curve[output[y:y + rows, :, channel]]
    return any(moved)


# ----------------------------------------------------------------------------- estimates

def sample_boxes(height: int, width: int, side: int = SAMPLE_TILE, count: int = SAMPLE_COUNT) -> list[Box]:
    """Up to ``count`` tiles of ``side`` px spread over the photo (3 x 2 on a landscape photo,
    2 x 3 on a portrait), placed on the 8 px JPEG block grid; one tile for a small photo."""
    across, down = (3, 2) if width >= height else (2, 3)
    across = max(1, min(across, width // side))
    down = max(1, min(down, height // side, count // across))
    boxes = []
    for row in range(down):
        for column in range(across):
            y = (round((row + 0.5) * height / down - side / 2) // 8) * 8
            x = (round((column + 0.5) * width / across - side / 2) // 8) * 8
            y, x = max(0, min(y, (height - side) // 8 * 8)), max(0, min(x, (width - side) // 8 * 8))
            boxes.append(Box(x, y, min(width, x + side), min(height, y + side)))
    return list(dict.fromkeys(boxes))


def classical_levels(rgb: np.ndarray) -> np.ndarray:
    """Denoise and deblock strengths measured on one H x W x 3 float tile, sharpen 0: blur
    cannot be told from a soft subject or a shallow focus by measurement alone, so without a
    model's estimate it is left to the user."""
    return np.array([noise_sigma(rgb) / NOISE_SIGMA_AT_ONE, blockiness_strength(rgb), 0.0])


def noise_sigma(rgb: np.ndarray, block: int = 32) -> float:
    """Noise sigma in levels of 255 by Immerkaer's fast estimate (the mean absolute response of
    a Laplacian difference that cancels smooth content), per 32 px block, the 25th percentile
    of the blocks: calm blocks measure the noise, textured ones are left out. Each channel is
    measured and the three averaged: on luma, noise independent per channel would read 0.67x."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    sigmas = []
    for channel in range(3):
        response = np.abs(cv2.filter2D(rgb[:, :, channel] * 255.0, cv2.CV_32F, kernel))[1:-1, 1:-1]
        h, w = response.shape
        if h >= block and w >= block:
            blocks = response[:h // block * block, :w // block * block]
            means = blocks.reshape(h // block, block, w // block, block).mean(axis=(1, 3))
            level = float(np.percentile(means, 25))
        else:
            level = float(response.mean()) if response.size else 0.0
        sigmas.append(math.sqrt(math.pi / 2) / 6 * level)
    sigma = float(np.mean(sigmas))
    return sigma if sigma >= NOISE_FLOOR else 0.0


def blockiness_strength(rgb: np.ndarray) -> float:
    """JPEG blockiness mapped roughly to (100 - Q) / 90: the luma step across 8 px block
    boundaries against the step inside blocks (the tile lies on the block grid)."""
    luma = rgb[:, :, 0] * 76.245 + rgb[:, :, 1] * 149.685 + rgb[:, :, 2] * 29.07
    if luma.shape[0] < 16 or luma.shape[1] < 16:
        return 0.0
    across, down = np.abs(np.diff(luma, axis=1)), np.abs(np.diff(luma, axis=0))
    phase_x = np.array([across[:, p::8].mean() for p in range(8)])
    phase_y = np.array([down[p::8].mean() for p in range(8)])
    inside = np.delete(phase_x, 7).mean() + np.delete(phase_y, 7).mean()
    ratio = (phase_x[7] + phase_y[7]) / max(float(inside), 1e-6) - 1.0
    excess = max(0.0, ratio - BLOCK_FLOOR)
    return float(min(1.0, math.log1p(excess / BLOCK_SCALE) / math.log1p((BLOCK_AT_ONE - BLOCK_FLOOR) / BLOCK_SCALE)))


# ----------------------------------------------------------------------------- opening

def open_restorer(registry: ModelRegistry, device: Device = Device.AUTO, model_id: str | None = None) -> LoadedModel:
    """The installed restoration model (``model_id``, else the default ``restore`` model),
    verified and loaded on ``device``; a typed error with one sentence when there is none or it
    cannot be used."""
    entry = registry.get(model_id) if model_id else registry.default_entry(ModelKind.RESTORE)
    if entry is None:
        raise ModelMissingError("No photo restoration model is installed (a model of kind 'restore' in the bundled "
                                "models folder, $RESTORER_MODEL_PATH or the user's models folder), so Restorer "
                                "cannot denoise, de-JPEG or sharpen yet.")
    if entry.kind is not ModelKind.RESTORE:
        raise ModelError(f"'{entry.id}' is a {entry.kind.value} model, not a photo restoration model.")
    return registry.open(entry.id, device)
