"""Inpainting end to end: pick the method, fill region by region, paste back masked pixels only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .blend import soften_edge
from .errors import MaskError, ModelError, RestorerError
from .imageio import RasterImage
from .masks import check_mask_size
from .methods import ClassicalAlgorithm, ClassicalFill, FillMethod, OnnxFill
from .progress import Progress
from .regions import regions_around_mask
from .registry import ModelEntry, ModelKind, ModelRegistry, ModelStatus, default_model_folders
from .runtime import CUDA, Device

AUTO = "auto"
CLASSICAL_IDS = tuple(a.value for a in ClassicalAlgorithm)


@dataclass(frozen=True)
class InpaintRequest:
    """What the user asked for. ``method`` is ``auto``, ``telea``, ``ns`` or a model id."""

    method: str = AUTO
    prompt: str = ""
    seed: int = 0
    device: Device = Device.AUTO
    #: Match a learned fill's colour and brightness to its surroundings (see blend.py). Off by
    #: default: the current model is not tinted, and matching cost it 0.05-0.1 dB (MODEL_CARD).
    harmonize: bool = False
    #: Soft edge: over this many pixels inside the mask the fill fades into the original.
    feather: int = 0


@dataclass(frozen=True)
class MethodInfo:
    id: str
    label: str
    uses_text: bool
    available: bool
    detail: str = ""


@dataclass
class FillResult:
    pixels: np.ndarray
    method_id: str
    method_label: str
    provider: str
    changed_pixels: int
    regions: int
    seconds: float
    notices: list[str] = field(default_factory=list)
    model: ModelEntry | None = None


class Inpainter:
    """Fills masked holes with the method a request names. Thread-safe for one job at a time
    per instance; model sessions are shared through the registry's session factory."""

    def __init__(self, registry: ModelRegistry | None = None) -> None:
        self.registry = registry or ModelRegistry(default_model_folders())
        self._text_encoder = None

    def embed_prompt(self, prompt: str, size: int) -> tuple[np.ndarray | None, str | None]:
        """The description's embedding for a text-capable model, or (None, why not).

        An empty description is the model's "no description" input: zeros.
        """
        if not prompt.strip():
            return np.zeros(size, np.float32), None
        try:
            if self._text_encoder is None:
                from .text import TextEncoder

                self._text_encoder = TextEncoder.from_registry(self.registry)
            vector = self._text_encoder.embed(prompt)
        except ModelError as exc:
            return None, f"{exc} The description was ignored."
        if vector.shape[0] != size:
            return None, (f"The text encoder gives {vector.shape[0]} numbers but the model expects {size}; "
                          "the description was ignored.")
        return vector, None

    # ----------------------------------------------------------------- method catalogue

    def methods(self) -> list[MethodInfo]:
        """Every method the user may pick, learned models first."""
        infos = [MethodInfo(AUTO, "Automatic (best available)", self._auto_uses_text(), True)]
        for entry in self.registry.entries(ModelKind.INPAINT):
            status = self.registry.status(entry)
            infos.append(MethodInfo(entry.id, f"{entry.name} {entry.version}", entry.uses_text,
                                    status is ModelStatus.READY, status.value))
        for algorithm in ClassicalAlgorithm:
            method = ClassicalFill(algorithm)
            infos.append(MethodInfo(method.id, method.label, False, True))
        return infos

    def expected_provider(self, method_id: str, device: Device = Device.AUTO) -> str:
        """Where a fill with ``method_id`` would run ("CPU (OpenCV)", "CPU", "CUDA"), loading
        (and caching) the model's session if needed, so the answer is the real one."""
        try:
            method, _ = self.resolve(InpaintRequest(method=method_id, device=device))
        except RestorerError:
            return "unavailable"
        return method.provider if method.model_entry is None else (
            "CUDA" if method.provider == CUDA else "CPU")

    def _auto_uses_text(self) -> bool:
        entry = self.registry.default_entry(ModelKind.INPAINT)
        return bool(entry and entry.uses_text)

    def resolve(self, request: InpaintRequest) -> tuple[FillMethod, list[str]]:
        """The method to run, plus notices the user should see (fallbacks, ignored options)."""
        method_id = request.method.strip()
        if method_id.lower() in CLASSICAL_IDS:
            return ClassicalFill(ClassicalAlgorithm(method_id.lower())), []
        if method_id.lower() == AUTO:
            entry = self.registry.default_entry(ModelKind.INPAINT)
            if entry is None:
                return ClassicalFill(ClassicalAlgorithm.TELEA), []
            try:
                return self._open(entry.id, request)
            except ModelError as exc:
                return ClassicalFill(ClassicalAlgorithm.TELEA), [f"{exc} Used the Telea fill instead."]
        return self._open(method_id, request)

    def _open(self, model_id: str, request: InpaintRequest) -> tuple[FillMethod, list[str]]:
        loaded = self.registry.open(model_id, request.device)
        if loaded.entry.kind is not ModelKind.INPAINT:
            raise ModelError(f"'{model_id}' is a {loaded.entry.kind.value} model, not an inpainting model.")
        notices = [loaded.runtime.notice] if loaded.runtime.notice else []
        return OnnxFill(loaded, harmonize=request.harmonize), notices

    # ----------------------------------------------------------------------- filling

    def inpaint(self, image: RasterImage, mask: np.ndarray, request: InpaintRequest,
                progress: Progress | None = None) -> FillResult:
        """Fill ``mask`` (255 = hole) in ``image``. Pixels outside the mask are returned
        bit-identical; an empty mask returns a copy of the input."""
        progress = progress or Progress()
        started = time.perf_counter()
        if mask.ndim != 2 or mask.dtype != np.uint8:
            raise MaskError("A mask must be a single-channel 8-bit image.")
        check_mask_size(mask, (image.height, image.width))
        progress.check_cancelled()
        method, notices = self.resolve(request)
        embedding = None
        if method.uses_text:
            embedding, why_not = self.embed_prompt(request.prompt, method.model_entry.text_embedding_size)
            if why_not:
                notices.append(why_not)
        elif request.prompt.strip():
            notices.append(f"{method.label} does not use descriptions; the description was ignored.")
        output = image.pixels.copy()
        regions = regions_around_mask(mask, method.context_margin) if mask.any() else []
        total = sum(region.hole_count for region in regions)
        progress.report(0.0, f"Filling {len(regions)} region(s) with {method.label}")
        done = 0
        for index, region in enumerate(regions):
            progress.check_cancelled()
            share = region.hole_count
            filled = method.fill_region(image.pixels, mask, region, embedding,
                                        progress.sub(done / total, (done + share) / total))
            if request.feather > 0:
                filled = soften_edge(image.pixels[region.box.slices], filled, region.holes, request.feather)
            output[region.box.slices][region.holes] = filled[region.holes]
            done += share
            progress.report(done / total, f"Region {index + 1} of {len(regions)}")
        if image.has_alpha:  # fills never touch alpha; guard against a method that did
            output[:, :, -1] = image.pixels[:, :, -1]
        progress.report(1.0, "Done")
        return FillResult(
            pixels=output,
            method_id=method.id,
            method_label=method.label,
            provider=method.provider,
            changed_pixels=total,
            regions=len(regions),
            seconds=time.perf_counter() - started,
            notices=notices,
            model=method.model_entry,
        )

