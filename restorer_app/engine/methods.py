"""Fill methods behind one interface.

The pipeline hands each method one region (a box around a mask cluster with context) and
pastes back only the masked pixels it returns. Methods stay small: classical OpenCV fills
and the ONNX model runner.
"""

from __future__ import annotations

import abc
import enum
import functools
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from .blend import harmonize_fill, match_tone
from .masks import holes_of
from .progress import Progress
from .regions import Region
from .kinds import ModelKind
from .registry import LoadedModel, ModelEntry, Prefill
from .runtime import OPENCV_CPU, Placement
from .strategy import LEARNED_CONTEXT, ModelRunner, context_box, enlarge, fit_scale, padded_side, scaled_size, shrink, shrink_mask
from .texture import match_texture
from . import tensors


class ClassicalAlgorithm(enum.Enum):
    TELEA = "telea"
    NS = "ns"


class FillMethod(abc.ABC):
    """A way to fill holes. ``fill_box`` returns new pixels for ``box`` (same dtype/channels)."""

    id: str
    label: str
    uses_text: bool = False
    #: Where the fill runs (a learned one: where its session actually runs).
    placement: Placement = OPENCV_CPU
    #: Known pixels of context each region needs around its holes.
    context_margin: int = 16
    #: The registry entry of a learned model (None for classical fills).
    model_entry: ModelEntry | None = None

    @abc.abstractmethod
    def fill_region(self, pixels: np.ndarray, mask: np.ndarray, region: Region, embedding: np.ndarray | None,
                    progress: Progress) -> np.ndarray:
        """New pixels for ``region.box`` (same dtype/channels); the caller keeps only ``region.holes``."""


class ClassicalFill(FillMethod):
    """OpenCV's fast-marching fills (Telea 2004, Navier-Stokes/Bertalmio 2001).

    Both fill each pixel from known pixels within ``radius``; the context margin exceeds it
    and other clusters' holes are farther away, so filling one cluster at a time gives
    ``cv2.inpaint`` on the whole image, bit for bit.
    """

    placement = OPENCV_CPU

    def __init__(self, algorithm: ClassicalAlgorithm, radius: int = 3) -> None:
        self.algorithm = algorithm
        self.radius = radius
        self.id = algorithm.value
        self.label = {"telea": "Telea (classical)", "ns": "Navier-Stokes (classical)"}[algorithm.value]
        self.context_margin = 2 * radius + 2

    def fill_region(self, pixels, mask, region, embedding, progress):
        return classical_fill(pixels[region.box.slices], region.holes, self.algorithm, self.radius)


def classical_fill(pixels: np.ndarray, mask: np.ndarray, algorithm: ClassicalAlgorithm, radius: int = 3) -> np.ndarray:
    """``cv2.inpaint`` on any of our layouts; alpha channels are left as they are."""
    flag = cv2.INPAINT_TELEA if algorithm is ClassicalAlgorithm.TELEA else cv2.INPAINT_NS
    binary = holes_of(mask).astype(np.uint8)
    channels = pixels.shape[2]
    colour = 1 if channels in (1, 2) else 3
    out = pixels.copy()
    if pixels.dtype == np.uint8 and colour == 3:
        out[:, :, :3] = cv2.inpaint(np.ascontiguousarray(pixels[:, :, :3]), binary, radius, flag)
    else:  # OpenCV fills 16-bit images one channel at a time; the channels in parallel (bit for bit the same)
        def one(c: int) -> None:
            out[:, :, c] = cv2.inpaint(np.ascontiguousarray(pixels[:, :, c]), binary, radius, flag)

        if colour > 1 and cv2.getNumThreads() > 1:  # a batch worker given one core runs them in turn
            list(_channel_pool().map(one, range(colour)))
        else:
            for c in range(colour):
                one(c)
    return out


@functools.cache
def _channel_pool() -> ThreadPoolExecutor:
    """Threads for the channels of a 16-bit classical fill (cv2.inpaint runs on one core and
    releases the GIL: on two cores a 60 MP scan's thin damage fills in half the time)."""
    return ThreadPoolExecutor(max_workers=3, thread_name_prefix="restorer-inpaint")


def _fine_detail(rgb: np.ndarray, hole: np.ndarray, small_size: tuple[int, int]) -> np.ndarray:
    """What a hole filled at reduced size lacks: the high frequencies of a full-resolution
    Navier-Stokes fill, which carries fine edges from the hole's border inward.

    (A Laplacian-pyramid split: the network gives the coarse level, the classical fill the
    fine one.)
    """
    sharp = tensors.from_eight_bit(classical_fill(tensors.to_eight_bit(rgb), hole, ClassicalAlgorithm.NS))
    return sharp - enlarge(shrink(sharp, small_size), (rgb.shape[1], rgb.shape[0]))


#: Pixels (at the network's input scale) over which a thick hole's fill hands over from the
#: full-resolution run, best at continuing the edges and texture at the hole's border, to a
#: run at half resolution, which sees twice as far and so guesses the middle of a large hole
#: better. Measured on the validation photos (models.evaluate): +0.2 dB hole-PSNR on blobs, no
#: change on strokes or scratches.
COARSE_BLEND = 48.0
#: Holes no deeper than this (pixels from the nearest known pixel) skip the half-resolution
#: run: it would get under a sixth of the weight anywhere, and thin damage is most of a scan.
COARSE_MIN_DEPTH = 8.0
#: The full-resolution run is made twice, on the crop and on its mirror image, and the two
#: fills averaged (a self-ensemble: the network's guesses err differently left-to-right, and
#: the mean errs less). Measured on the validation photos with model 1.4 (models.evaluate), network
#: alone: scratches +0.25 dB, strokes +0.14 dB, blobs +0.02 dB hole-PSNR; it doubles the
#: fine run's time. The half-resolution run gains nothing from it and is made once.
MIRROR_ENSEMBLE = True


#: What each model run of a fill is called in progress reports, and its cost relative to the
#: others (the half-size run has a quarter of the pixels).
_RUNS = {"full": ("Model run at full size", 4), "mirror": ("Model run on the mirror image", 4),
         "half": ("Model run at half size", 1)}


class InpaintRunner(ModelRunner):
    """The session run of an inpainting model (the strategy layer pads, converts and runs)."""

    work = "filling"
    advice = "close other programs, use the CPU, or fill smaller areas at a time"


#: The input that takes a generation model's latent code (kinds.py).
LATENT_INPUT = "latent"


def latent_code(rng: np.random.Generator, channels: int, height: int, width: int, stride: int) -> np.ndarray:
    """A generation model's latent code for a ``height`` x ``width`` input: standard normal
    noise, 1 x ``channels`` x height/stride x width/stride, as the model was trained with."""
    return rng.standard_normal((1, channels, max(1, height // stride), max(1, width // stride)), dtype=np.float32)


class OnnxFill(FillMethod):
    """A learned inpainting or generation model from the registry.

    Each region is cropped with generous context and shrunk above the model's ``max_side``
    (strategy.py), given the classical pre-fill the model expects, and run. Thick holes are
    also run at half that size, and the two fills are blended by depth into the hole
    (:data:`COARSE_BLEND`). The full-size run is averaged with its mirror image's
    (:data:`MIRROR_ENSEMBLE`, ``mirror``). Colour, tone and texture are matched afterwards.

    A generation model (kind ``generate``) also takes a latent code, drawn from the seed
    per region: another seed gives another plausible fill. It runs once per hole at full
    size: averaging it with its mirror or a half-size run would average the variations away.
    """

    def __init__(self, model: LoadedModel, harmonize: bool = True, grain: float = 0.0, seed: int = 0,
                 mirror: bool | None = None, no_source: np.ndarray | None = None) -> None:
        # The registry has checked the model's inputs and outputs against its kind (kinds.py).
        self.model = model
        self.runner = InpaintRunner(model)
        self.mirror = MIRROR_ENSEMBLE if mirror is None else mirror
        self.harmonize = harmonize
        self.grain = grain
        self.seed = seed
        #: Photo-sized, nonzero where texture must never be copied from (InpaintRequest.no_source).
        self.no_source = no_source
        entry = self.model_entry = model.entry
        self.generative = entry.kind is ModelKind.GENERATE
        if self.generative:
            self.mirror = False
        self.id = entry.id
        self.label = f"{entry.name} {entry.version}"
        self.uses_text = entry.uses_text
        self.placement = model.runtime.placement
        self.context_margin = LEARNED_CONTEXT

    def input_pixels(self, region: Region, height: int, width: int) -> int:
        """How many pixels the network will process for ``region`` (its cost)."""
        entry = self.model.entry
        crop = context_box(region.box, self.context_margin, height, width)
        scale = fit_scale(crop.height, crop.width, entry.max_side)
        small_width, small_height = scaled_size(crop.height, crop.width, scale)
        pixels = (padded_side(small_height, entry.size_multiple) * padded_side(small_width, entry.size_multiple)
                  * (2 if self.mirror else 1))
        depth = float(cv2.distanceTransform(region.holes.astype(np.uint8), cv2.DIST_L2, 5).max())
        # A thick hole costs one more run at half size: a quarter of one full-size run.
        coarse = depth * scale >= COARSE_MIN_DEPTH and not self.generative
        return pixels + pixels // (8 if self.mirror else 4) if coarse else pixels

    def fill_region(self, pixels, mask, region, embedding, progress):
        # The network sees every hole in its crop as a hole (damaged pixels are no context),
        # even those another region will paste.
        box = region.box
        height, width = pixels.shape[:2]
        crop_box = context_box(box, self.context_margin, height, width)
        rgb = tensors.to_float_rgb(pixels[crop_box.slices])
        holes = holes_of(mask[crop_box.slices])
        hole = holes.astype(np.uint8)
        scale = fit_scale(rgb.shape[0], rgb.shape[1], self.model.entry.max_side)
        if scale < 1.0:
            size = scaled_size(rgb.shape[0], rgb.shape[1], scale)
            small_rgb, small_hole = shrink(rgb, size), shrink_mask(hole, size)
        else:
            small_rgb, small_hole = rgb, hole
        latent_rng = np.random.default_rng([self.seed, box.y0, box.x0, 1]) if self.generative else None
        filled = self._run_two_scales(small_rgb, small_hole, embedding, progress, latent_rng)
        if scale < 1.0:
            filled = enlarge(filled, (rgb.shape[1], rgb.shape[0]))
            filled = filled + _fine_detail(rgb, hole, small_rgb.shape[1::-1])
        if self.harmonize:
            filled = harmonize_fill(rgb, filled, holes)
        # A grey or sepia scan keeps its tone (the model learned on colour photos).
        filled = match_tone(rgb, filled, holes)
        oy, ox = box.y0 - crop_box.y0, box.x0 - crop_box.x0
        if self.grain > 0:
            # The photo's own fine detail (texture.py; the random-phase grain where too little
            # photo is around). Seeded per region, so a region's texture does not depend on
            # what else is filled; only this region's holes are pasted, so only they get it.
            rng = np.random.default_rng([self.seed, box.y0, box.x0])
            own = np.zeros(hole.shape, bool)
            own[oy:oy + box.height, ox:ox + box.width] = region.holes
            kept_out = self.no_source[crop_box.slices] != 0 if self.no_source is not None else None
            filled = match_texture(rgb, filled, holes, self.grain, rng, targets=own, no_source=kept_out)
        full = tensors.from_float_rgb(filled, pixels[crop_box.slices])
        return full[oy:oy + box.height, ox:ox + box.width]

    def _run_two_scales(self, rgb: np.ndarray, hole: np.ndarray, embedding: np.ndarray | None,
                        progress: Progress, latent_rng: np.random.Generator | None = None) -> np.ndarray:
        """The network's fill of ``hole``; deep inside a thick hole, blended towards its fill at
        half resolution (weight: depth / :data:`COARSE_BLEND`). Each run is a progress step,
        and the job can be cancelled between runs."""
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
        height, width = hole.shape
        coarse_too = depth.max() >= COARSE_MIN_DEPTH and min(height, width) >= 32 and not self.generative
        plan = ["full"] + (["mirror"] if self.mirror else []) + (["half"] if coarse_too else [])
        total, done = sum(_RUNS[name][1] for name in plan), 0

        def run(name: str, rgb_in: np.ndarray, hole_in: np.ndarray) -> np.ndarray:
            nonlocal done
            progress.check_cancelled()
            out = self._run(rgb_in, hole_in, embedding, latent_rng)
            done += _RUNS[name][1]
            progress.report(done / total, _RUNS[name][0])
            return out

        fine = run("full", rgb, hole)
        if self.mirror:
            mirrored = run("mirror", np.ascontiguousarray(rgb[:, ::-1]), np.ascontiguousarray(hole[:, ::-1]))
            fine = 0.5 * (fine + mirrored[:, ::-1])
        if not coarse_too:
            return fine
        size = (round(width / 2), round(height / 2))
        coarse = enlarge(run("half", shrink(rgb, size), shrink_mask(hole, size)), (width, height))
        weight = np.clip(depth / COARSE_BLEND, 0.0, 1.0)[:, :, None]
        return np.clip(fine + weight * (coarse - fine), 0.0, 1.0).astype(np.float32)

    def _run(self, rgb: np.ndarray, hole: np.ndarray, embedding: np.ndarray | None,
             latent_rng: np.random.Generator | None = None) -> np.ndarray:
        """One model run on a crop at the network's scale: pre-fill, inputs, session."""
        entry = self.model.entry
        if entry.prefill is not Prefill.NONE:
            algorithm = ClassicalAlgorithm.NS if entry.prefill is Prefill.NS else ClassicalAlgorithm.TELEA
            # The pre-fill is only the network's starting point, so 8-bit precision is enough.
            rgb = tensors.from_eight_bit(classical_fill(tensors.to_eight_bit(rgb), hole, algorithm))
        else:
            rgb = rgb * (1.0 - hole[:, :, None])
        vectors = {}
        if entry.uses_text:
            vectors["text"] = embedding if embedding is not None else np.zeros(entry.text_embedding_size, np.float32)
        codes = None
        if self.generative:
            spec = entry.input(LATENT_INPUT)
            rng = latent_rng if latent_rng is not None else np.random.default_rng(self.seed)
            codes = {LATENT_INPUT: lambda h, w: latent_code(rng, spec.channels or 8, h, w, entry.size_multiple)}
        (out,) = self.runner.run({"image": rgb, "mask": tensors.mask_to_float(hole)}, vectors, ["output"],
                                 codes).values()
        return np.clip(out, 0.0, 1.0)
