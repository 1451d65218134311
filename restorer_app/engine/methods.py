"""Fill methods behind one interface.

The pipeline hands each method one region (a box around a mask cluster with context) and
pastes back only the masked pixels it returns. Methods stay small: classical OpenCV fills
and the ONNX model runner.
"""

from __future__ import annotations

import abc
import enum

import cv2
import numpy as np

from .blend import harmonize_fill, match_tone
from .errors import ModelError, ModelSignatureError, OutOfMemoryError
from .grain import match_grain
from .progress import Progress
from .regions import Region
from .registry import LoadedModel, ModelEntry, Prefill
from .runtime import OPENCV_CPU, Placement
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
    binary = (mask > 0).astype(np.uint8)
    channels = pixels.shape[2]
    colour = 1 if channels in (1, 2) else 3
    out = pixels.copy()
    if pixels.dtype == np.uint8 and colour == 3:
        out[:, :, :3] = cv2.inpaint(np.ascontiguousarray(pixels[:, :, :3]), binary, radius, flag)
    else:  # OpenCV fills 16-bit images one channel at a time
        for c in range(colour):
            out[:, :, c] = cv2.inpaint(np.ascontiguousarray(pixels[:, :, c]), binary, radius, flag)
    return out


def _fine_detail(rgb: np.ndarray, hole: np.ndarray, small_size: tuple[int, int]) -> np.ndarray:
    """What a hole filled at reduced size lacks: the high frequencies of a full-resolution
    Navier-Stokes fill, which carries fine edges from the hole's border inward.

    (A Laplacian-pyramid split: the network gives the coarse level, the classical fill the
    fine one.)
    """
    as8 = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
    sharp = classical_fill(as8, hole, ClassicalAlgorithm.NS).astype(np.float32) / 255.0
    coarse = cv2.resize(cv2.resize(sharp, small_size, interpolation=cv2.INTER_AREA),
                        (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_CUBIC)
    return sharp - coarse


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


class OnnxFill(FillMethod):
    """A learned inpainting model from the registry.

    Each region is cropped with generous context, shrunk if it exceeds the model's
    comfortable size, given the classical pre-fill the model expects, padded to the
    model's size multiple, run, and converted back. Thick holes are also run at half that
    size, and the two fills are blended by depth into the hole (:data:`COARSE_BLEND`). The
    full-size run is averaged with its mirror image's (:data:`MIRROR_ENSEMBLE`, ``mirror``).
    """

    def __init__(self, model: LoadedModel, harmonize: bool = True, grain: float = 0.0, seed: int = 0,
                 mirror: bool | None = None) -> None:
        self.model = model
        self.mirror = MIRROR_ENSEMBLE if mirror is None else mirror
        self.harmonize = harmonize
        self.grain = grain
        self.seed = seed
        entry = self.model_entry = model.entry
        expected = {"image", "mask"} | ({"text"} if entry.uses_text else set())
        if {spec.name for spec in entry.inputs} != expected or [s.name for s in entry.outputs] != ["output"]:
            raise ModelSignatureError(
                f"Model '{entry.id}' is not an inpainting model Restorer can run: it needs inputs "
                f"{sorted(expected)} and one output 'output'."
            )
        self.id = entry.id
        self.label = f"{entry.name} {entry.version}"
        self.uses_text = entry.uses_text
        self.placement = model.runtime.placement
        self.context_margin = 32

    def _crop_box(self, region: Region, height: int, width: int):
        """The region's box with generous context (a quarter of its size, at least the margin)."""
        box = region.box
        extra = max(self.context_margin, max(box.width, box.height) // 4)
        return box.expanded(extra, height, width)

    def input_pixels(self, region: Region, height: int, width: int) -> int:
        """How many pixels the network will process for ``region`` (its cost)."""
        crop = self._crop_box(region, height, width)
        scale = min(1.0, self.model.entry.max_side / max(crop.height, crop.width))
        multiple = max(1, self.model.entry.size_multiple)
        side = lambda n: -(-max(8, round(n * scale)) // multiple) * multiple  # noqa: E731
        pixels = side(crop.height) * side(crop.width) * (2 if self.mirror else 1)
        depth = float(cv2.distanceTransform(region.holes.astype(np.uint8), cv2.DIST_L2, 5).max())
        # A thick hole costs one more run at half size: a quarter of one full-size run.
        return pixels + pixels // (8 if self.mirror else 4) if depth * scale >= COARSE_MIN_DEPTH else pixels

    def fill_region(self, pixels, mask, region, embedding, progress):
        # The network sees every hole in its crop as a hole (damaged pixels are no context),
        # even those another region will paste.
        box = region.box
        entry = self.model.entry
        height, width = pixels.shape[:2]
        crop_box = self._crop_box(region, height, width)
        rgb = tensors.to_float_rgb(pixels[crop_box.slices])
        hole = (mask[crop_box.slices] > 0).astype(np.uint8)
        scale = min(1.0, entry.max_side / max(rgb.shape[:2]))
        if scale < 1.0:
            size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
            small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            small_hole = (cv2.resize(hole * 255, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        else:
            small_rgb, small_hole = rgb, hole
        filled = self._run_two_scales(small_rgb, small_hole, embedding)
        if scale < 1.0:
            filled = cv2.resize(filled, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_CUBIC)
            filled = filled + _fine_detail(rgb, hole, small_rgb.shape[1::-1])
        if self.harmonize:
            filled = harmonize_fill(rgb, filled, hole > 0)
        # A grey or sepia scan keeps its tone (the model learned on colour photos).
        filled = match_tone(rgb, filled, hole > 0)
        oy, ox = box.y0 - crop_box.y0, box.x0 - crop_box.x0
        if self.grain > 0:
            # Seeded per region, so a region's grain does not depend on what else is filled;
            # only this region's holes are pasted, so only they get grain.
            rng = np.random.default_rng([self.seed, box.y0, box.x0])
            own = np.zeros(hole.shape, bool)
            own[oy:oy + box.height, ox:ox + box.width] = region.holes
            filled = match_grain(rgb, filled, hole > 0, self.grain, rng, targets=own)
        full = tensors.from_float_rgb(filled, pixels[crop_box.slices])
        return full[oy:oy + box.height, ox:ox + box.width]

    def _run_two_scales(self, rgb: np.ndarray, hole: np.ndarray, embedding: np.ndarray | None) -> np.ndarray:
        """The network's fill of ``hole``; deep inside a thick hole, blended towards its fill at
        half resolution (weight: depth / :data:`COARSE_BLEND`)."""
        fine = self._run(rgb, hole, embedding)
        if self.mirror:
            mirrored = self._run(np.ascontiguousarray(rgb[:, ::-1]), np.ascontiguousarray(hole[:, ::-1]), embedding)
            fine = 0.5 * (fine + mirrored[:, ::-1])
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
        height, width = hole.shape
        if depth.max() < COARSE_MIN_DEPTH or min(height, width) < 32:
            return fine
        size = (round(width / 2), round(height / 2))
        half_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        half_hole = (cv2.resize(hole.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        coarse = cv2.resize(self._run(half_rgb, half_hole, embedding), (width, height), interpolation=cv2.INTER_CUBIC)
        weight = np.clip(depth / COARSE_BLEND, 0.0, 1.0)[:, :, None]
        return np.clip(fine + weight * (coarse - fine), 0.0, 1.0).astype(np.float32)

    def _run(self, rgb: np.ndarray, hole: np.ndarray, embedding: np.ndarray | None) -> np.ndarray:
        entry = self.model.entry
        if entry.prefill is not Prefill.NONE:
            algorithm = ClassicalAlgorithm.NS if entry.prefill is Prefill.NS else ClassicalAlgorithm.TELEA
            # The pre-fill is only the network's starting point, so 8-bit precision is enough.
            as8 = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
            rgb = classical_fill(as8, hole, algorithm).astype(np.float32) / 255.0
        else:
            rgb = rgb * (1.0 - hole[:, :, None])
        multiple = max(1, entry.size_multiple)
        h, w = rgb.shape[:2]
        pad_h, pad_w = (-h) % multiple, (-w) % multiple
        padding = ((0, pad_h), (0, pad_w))
        mode = "reflect" if h > pad_h and w > pad_w else "edge"
        rgb_p = np.pad(rgb, padding + ((0, 0),), mode=mode)
        hole_p = np.pad(hole, padding, mode=mode)
        feeds = {"image": tensors.to_nchw(rgb_p), "mask": tensors.to_nchw(tensors.mask_to_float(hole_p))}
        if entry.uses_text:
            vector = embedding if embedding is not None else np.zeros(entry.text_embedding_size, np.float32)
            feeds["text"] = vector.reshape(1, -1).astype(np.float32)
        try:
            (output,) = self.model.session.run(["output"], feeds)
        except Exception as exc:  # ORT raises RuntimeException/Fail with the allocator message
            if "memory" in str(exc).lower() or "alloc" in str(exc).lower():
                raise OutOfMemoryError(
                    f"The device ran out of memory filling a {w}x{h} region; close other programs, "
                    "use the CPU, or fill smaller areas at a time."
                ) from None
            raise ModelError(f"Model '{entry.id}' failed on a {w}x{h} region: {exc}") from None
        out = tensors.from_nchw(output)[:h, :w]
        return np.clip(out, 0.0, 1.0)
