"""Inpainting end to end: pick the method, fill region by region, paste back masked pixels only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from .blend import soften_edge
from .errors import MaskError, ModelError, RestorerError
from .imageio import RasterImage
from .masks import check_mask_size, holes_of
from .methods import ClassicalAlgorithm, ClassicalFill, FillMethod, OnnxFill
from .progress import Progress
from .regions import Region, inner_distance, regions_around_mask, thick_holes, wide_part
from .registry import ModelEntry, ModelKind, ModelRegistry, ModelStatus, default_model_folders
from .runtime import Device, Placement

AUTO = "auto"
CLASSICAL_IDS = tuple(a.value for a in ClassicalAlgorithm)
NO_MODEL_NOTICE = ("No learned inpainting model is installed (reinstall Restorer to get the bundled one); "
                   "automatic fills use Telea (classical).")

#: Holes no wider than about twice this (pixels) count as thin damage: scratches, cracks, dust.
THIN_RADIUS = 5.0
#: ... and in a job whose thick parts alone still exceed :data:`AUTO_MODEL_BUDGET`, no wider than
#: about twice the first of these that brings the model's part within it (or the last): long
#: scratches crossing at shallow angles make many short stretches 10-24 px wide, each a model
#: crop mostly of known photo. On the long-scratch scan of benchmarks/large_scan.py (60 MP,
#: 6.7 %) they were 89 % of the model's input (46 of 50 MP) for 4 % of the holes; at 8 the
#: model gets the three round losses (4.5 MP). The same scan through ``restorer repair`` (the
#: detected scratches grown by a pixel, 5.3 %) still gave the model 25.8 MP at 8, all of it
#: crossings 17-22 px wide (0.2 MP of holes): 78 s of 95; at 12, 0.25 MP.
LARGE_JOB_THIN_RADII = (8.0, 12.0)
#: Descriptions apply to the parts of holes wider than about twice this (pixels): areas such
#: as a torn corner, not single strokes. A brush stroke is 24-30 px wide (the default brush, grown
#: by 3 px), and with the limit at 24 px a description that did not fit turned such strokes
#: into coloured stripes: "clear blue sky" cost 1.0 / 1.3 / 1.9 dB on 24 / 30 / 48 px lines and
#: moved them 6 / 8 / 15 levels, while a true caption gained nothing on any hole size
#: (benchmarks/description_reach.py, four photos). What fits in a narrower hole is clear from
#: its surroundings.
DESCRIBED_RADIUS = 32.0
#: The same limit as a hole's width in pixels, as the notices say it.
DESCRIBED_WIDTH = round(2 * DESCRIBED_RADIUS)
#: Pixels in from a hole's edge over which a described fill hands over from the plain one, so
#: the fill continues the photo at the edge and follows the description inside. A hard switch
#: left a visible colour step at the edge of a hole described truthfully (model 1.3: seam 1.45
#: vs 0.76, blobs -0.9 dB); 16 px removes the step, and steering still works in 34 of 36
#: validation cases (model 1.4, MODEL_CARD).
DESCRIPTION_RAMP = 16.0
#: Model input pixels ``auto`` may spend on one fill before thin damage goes to Navier-Stokes
#: instead (the model gains little there, and a 60 MP scan can have thousands of specks). On
#: two CPU cores the shipped model runs about a megapixel per second.
AUTO_MODEL_BUDGET = {Device.CPU: 4_000_000, Device.CUDA: 60_000_000}
#: Texture strength for learned fills unless a request says otherwise (texture.py: 1 = up to as
#: much fine detail as the photo next to each place). On 16 validation photos at 512 px
#: (benchmarks/texture_fill.py), 0.6 gives texture distances of 0.27 / 0.35 / 0.44 on strokes /
#: blobs / torn corners where the random-phase grain at 0.6 gave 0.40 / 0.50 / 0.70, with a
#: higher hole-SSIM and +0.15 / +0.08 / +0.04 dB hole-PSNR; 0.8 gives 0.25 / 0.34 / 0.42 for
#: 0.02-0.03 dB and 0.004 hole-SSIM less. (With the grain, 0.6 kept the model card's goals:
#: model 1.5, strokes +1.70 dB over the classical fills, 3 masks per photo.)
DEFAULT_GRAIN = 0.6
#: ``auto`` gives a hole to the generation model (kind ``generate``) when one is installed and
#: the hole reaches the photo's edge and is at least this deep (pixels from the nearest known
#: pixel, the photo's edge not counting as known): a torn corner, a missing strip, an extended
#: canvas, where there is photo on one side only. Scratches and brush strokes up to about 48 px
#: wide that run off the edge stay with the inpainting model.
GENERATE_EDGE_DEPTH = 24.0
#: ... or when it is this deep anywhere (a loss about twice as wide): little is around it that
#: a continuation could follow, and more than one fill is right.
GENERATE_DEPTH = 48.0
#: The seed whose fill is the inpainting model's everywhere: the most likely fill. Measured on the
#: validation photos (models.evaluate_generate), the generation model's fill of a torn corner,
#: a torn edge, a large loss or an extended canvas is 0.1-0.6 dB further from the truth than the
#: inpainting model's (which averages two runs and a half-size one) at about the same texture
#: distance, so the first fill stays the inpainter's and every other seed is one of the
#: generation model's alternatives.
MOST_LIKELY_SEED = 0


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
    #: Texture for learned fills (texture.py: the photo's own fine detail; the random-phase
    #: grain of grain.py where too little photo is around): the share of the surroundings'
    #: fine-detail energy the fill's interior is brought up to at most; 0 turns it off. The
    #: default costs 0.1-0.13 dB of hole-PSNR against the network alone on strokes, blobs and
    #: torn corners, 0.03 dB on scratches (benchmarks/texture_fill.py).
    grain: float = DEFAULT_GRAIN
    #: One model run per hole instead of two (the crop and its mirror image, averaged; see
    #: methods.MIRROR_ENSEMBLE): a 512x512 fill 0.39 s instead of 0.67 s on two CPU threads, a
    #: little less accurate (model 1.5, default grain: -0.21 / -0.15 / -0.01 dB hole-PSNR on
    #: scratches / strokes / blobs; MODEL_CARD).
    quick: bool = False
    #: Source control: where ``no_source`` (the photo's size, nonzero = kept out) marks pixels,
    #: a learned fill never copies texture from (texture.py): a face, lettering, anything that
    #: must not be cloned into a hole nearby. The network still sees them as context.
    no_source: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MethodInfo:
    id: str
    label: str
    uses_text: bool
    available: bool
    detail: str = ""
    #: A learned model fills with it (options for learned fills apply: grain, colour matching,
    #: quick); for ``auto``, only while its default model is usable.
    learned: bool = False


@dataclass
class FillResult:
    pixels: np.ndarray
    method_id: str
    method_label: str
    placement: Placement
    changed_pixels: int
    regions: int
    seconds: float
    notices: list[str] = field(default_factory=list)
    model: ModelEntry | None = None
    #: Hole pixels that ``auto`` gave to a classical fill instead of the model (thin damage).
    classical_pixels: int = 0
    #: The generation model ``auto`` gave torn edges and large losses to, and their pixels.
    generator: ModelEntry | None = None
    generated_pixels: int = 0

    @property
    def provider(self) -> str:
        """Where the fill ran, as shown and recorded ("CPU (ONNX Runtime)", "CPU (OpenCV)")."""
        return self.placement.label


@dataclass
class _Pass:
    """One method over its own regions; ``mask`` is what that method sees as holes."""

    method: FillMethod
    regions: list[Region]
    mask: np.ndarray


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
        default = self.registry.default_entry(ModelKind.INPAINT)
        why_not = self.registry.problem(default) if default is not None else "no learned model is installed"
        auto_label = "Automatic (best available)" if why_not is None else "Automatic (Telea: no usable model)"
        infos = [MethodInfo(AUTO, auto_label, self._auto_uses_text() and why_not is None, True, why_not or "",
                            learned=why_not is None)]
        for entry in self.registry.entries(ModelKind.INPAINT) + self.registry.entries(ModelKind.GENERATE):
            status = self.registry.status(entry)
            infos.append(MethodInfo(entry.id, f"{entry.name} {entry.version}", entry.uses_text,
                                    status is ModelStatus.READY, status.value, learned=True))
        for algorithm in ClassicalAlgorithm:
            method = ClassicalFill(algorithm)
            infos.append(MethodInfo(method.id, method.label, False, True))
        return infos

    def expected_placement(self, method_id: str, device: Device = Device.AUTO) -> Placement | None:
        """Where a fill with ``method_id`` would run, loading (and caching) the model's session
        if needed, so the answer is the real one; None when the method cannot run."""
        try:
            method, _ = self.resolve(InpaintRequest(method=method_id, device=device))
        except RestorerError:
            return None
        return method.placement

    def model_problems(self) -> list[str]:
        """Sentences for the user about models that cannot be used (shown at start and by
        ``restorer models``): folders that failed to read, shadowed ids, and every installed
        model whose file is missing, truncated or replaced, saying what ``auto`` does instead."""
        found = list(self.registry.problems)
        default = self.registry.default_entry(ModelKind.INPAINT)
        if default is None:
            found.append(NO_MODEL_NOTICE)
        for entry in self.registry.entries():
            problem = self.registry.problem(entry)
            if problem is None:
                continue
            if entry is default:
                problem += f" Automatic fills use {ClassicalFill(ClassicalAlgorithm.TELEA).label} until it is fixed."
            elif entry.kind is ModelKind.TEXT_ENCODER:
                problem += " Descriptions are ignored until it is fixed."
            found.append(problem)
        return found

    def _auto_uses_text(self) -> bool:
        entry = self.registry.default_entry(ModelKind.INPAINT)
        return bool(entry and entry.uses_text)

    def resolve(self, request: InpaintRequest) -> tuple[FillMethod, list[str]]:
        """The method to run, plus notices the user should see (fallbacks, ignored options)."""
        method_id = request.method.strip()
        if method_id.lower() in CLASSICAL_IDS:
            return ClassicalFill(ClassicalAlgorithm(method_id.lower())), []
        if method_id.lower() == AUTO:
            # Never a silent downgrade: whenever auto cannot use the learned model, it says why.
            entry = self.registry.default_entry(ModelKind.INPAINT)
            if entry is None:
                return ClassicalFill(ClassicalAlgorithm.TELEA), [NO_MODEL_NOTICE]
            try:
                return self._open(entry.id, request)
            except ModelError as exc:
                return ClassicalFill(ClassicalAlgorithm.TELEA), [f"{exc} Used the Telea fill instead."]
        return self._open(method_id, request)

    def _open(self, model_id: str, request: InpaintRequest) -> tuple[FillMethod, list[str]]:
        loaded = self.registry.open(model_id, request.device)
        if loaded.entry.kind not in (ModelKind.INPAINT, ModelKind.GENERATE):
            raise ModelError(f"'{model_id}' is a {loaded.entry.kind.value} model, not an inpainting model.")
        notices = [loaded.runtime.notice] if loaded.runtime.notice else []
        if model_id in self.registry.shadowed:
            notices.append(self.registry.shadowed[model_id])
        fill = OnnxFill(loaded, harmonize=request.harmonize, grain=request.grain, seed=request.seed,
                        mirror=False if request.quick else None, no_source=request.no_source)
        return fill, notices

    # ----------------------------------------------------------------------- filling

    def inpaint(self, image: RasterImage, mask: np.ndarray, request: InpaintRequest,
                progress: Progress | None = None) -> FillResult:
        """Fill ``mask`` (255 = hole) in ``image``. Pixels outside the mask are returned
        bit-identical; an empty mask returns a copy of the input."""
        progress = progress or Progress()
        started = time.perf_counter()
        if mask.ndim != 2 or mask.dtype != np.uint8:
            raise MaskError("A mask must be a single-channel 8-bit image.")
        if not 0.0 <= request.grain <= 1.0:
            raise RestorerError(f"Grain must be between 0 and 1 (got {request.grain}).")
        check_mask_size(mask, (image.height, image.width))
        if request.no_source is not None:
            check_mask_size(request.no_source, (image.height, image.width), name="The area kept out of copying")
        progress.check_cancelled()
        method, notices = self.resolve(request)
        embedding = None
        if method.uses_text:
            embedding, why_not = self.embed_prompt(request.prompt, method.model_entry.text_embedding_size)
            if why_not:
                notices.append(why_not)
        elif request.prompt.strip():
            notices.append(f"{method.label} does not use descriptions; the description was ignored.")
        if request.harmonize and method.model_entry is None:
            notices.append(f"Colour matching applies to learned fills; {method.label} takes its colours from the "
                           "hole's edge already.")
        output = image.pixels.copy()
        passes = self._plan(image, mask, method, request, notices)
        total = sum(region.hole_count for p in passes for region in p.regions)
        count = sum(len(p.regions) for p in passes)
        progress.report(0.0, f"Filling {count} region(s) with {method.label}")
        done = index = 0
        # A description says what belongs in a hole; thin scratches and dust are filled from
        # their surroundings (a caption there only shifted colours: MODEL_CARD).
        silent = np.zeros_like(embedding) if embedding is not None and request.prompt.strip() else None
        described = ignored = 0
        size = (image.height, image.width)
        for current in passes:
            # Later passes see the earlier passes' fills as context.
            source = image.pixels if current is passes[0] else output
            for region in current.regions:
                progress.check_cancelled()
                share = region.hole_count
                step = progress.sub(done / total, (done + share) / total)
                wide, partly = None, False
                if silent is not None and current.method.uses_text:
                    wide = wide_part(region, DESCRIBED_RADIUS, size)
                    partly = not wide[region.holes].all()
                    described += bool(wide.any())
                    ignored += partly
                if wide is not None and not wide.any():
                    filled = current.method.fill_region(source, current.mask, region, silent, step)
                elif wide is not None:  # two fills: with the description and without
                    filled = current.method.fill_region(source, current.mask, region, embedding, step.sub(0.0, 0.5))
                    plain = current.method.fill_region(source, current.mask, region, silent, step.sub(0.5, 1.0))
                    filled = _follow_description(region, wide, filled, plain, size)
                else:
                    filled = current.method.fill_region(source, current.mask, region, embedding, step)
                if request.feather > 0:
                    filled = soften_edge(image.pixels[region.box.slices], filled, region.holes, request.feather)
                output[region.box.slices][region.holes] = filled[region.holes]
                done += share
                index += 1
                progress.report(done / total, f"Region {index} of {count}")
        if ignored and not described:
            notices.append(f"The description was not used: it applies only to areas wider than about {DESCRIBED_WIDTH} "
                           "px, and strokes, scratches and spots narrower than that are filled from their surroundings.")
        elif ignored:
            notices.append(f"The description was used inside the areas wider than about {DESCRIBED_WIDTH} px; strokes, "
                           "scratches and spots narrower than that are filled from their surroundings.")
        if image.has_alpha:  # fills never touch alpha; guard against a method that did
            output[:, :, -1] = image.pixels[:, :, -1]
        progress.report(1.0, "Done")
        labels = list(dict.fromkeys(p.method.label for p in passes if p.regions))
        generated = [p for p in passes if p.regions and p.method is not method and isinstance(p.method, OnnxFill)
                     and p.method.generative]
        return FillResult(
            pixels=output,
            method_id=method.id,
            method_label=" + ".join(labels) if labels else method.label,
            placement=method.placement,
            changed_pixels=total,
            regions=count,
            seconds=time.perf_counter() - started,
            notices=notices,
            model=method.model_entry,
            classical_pixels=sum(r.hole_count for p in passes if isinstance(p.method, ClassicalFill)
                                 and p.method is not method for r in p.regions),
            generator=generated[0].method.model_entry if generated else None,
            generated_pixels=sum(r.hole_count for p in generated for r in p.regions),
        )

    def _plan(self, image: RasterImage, mask: np.ndarray, method: FillMethod, request: InpaintRequest,
              notices: list[str]) -> list[_Pass]:
        """Which method fills which holes. Normally one pass. ``auto`` with a generation model
        installed gives it torn edges and large losses (:func:`needs_generation`) in a last pass;
        ``auto`` with a model whose cost on the rest exceeds the budget fills thick holes with
        the model and thin damage with Navier-Stokes afterwards (with a notice saying so)."""
        if not mask.any():
            return [_Pass(method, [], mask)]
        regions = regions_around_mask(mask, method.context_margin)
        if request.method.strip().lower() != AUTO or not isinstance(method, OnnxFill):
            return [_Pass(method, regions, mask)]
        generation: list[_Pass] = []
        # Seed 0 is the most likely fill, the inpainter's; other seeds are generated alternatives.
        large = ([r for r in regions if needs_generation(r, image.height, image.width)]
                 if request.seed != MOST_LIKELY_SEED else [])
        generator = self._auto_generator(request, notices) if large else None
        if generator is not None:
            # The generation model goes last and sees the other fills as context.
            large_mask = np.zeros_like(mask)
            for region in large:
                large_mask[region.box.slices][region.holes] = 255
            generation = [_Pass(generator, large, large_mask)]
            regions = [r for r in regions if not any(r is g for g in large)]
            generated = sum(r.hole_count for r in large)
            notices.append(f"Torn edges and large losses ({generated:,} pixels in {len(large):,} place"
                           f"{'s' if len(large) > 1 else ''}) were filled with {generator.label}; another seed "
                           "gives another variation.")
            if not regions:
                return generation
        budget = AUTO_MODEL_BUDGET[method.placement.device]
        if sum(method.input_pixels(r, image.height, image.width) for r in regions) <= budget:
            return [_Pass(method, regions, mask)] + generation
        classical = ClassicalFill(ClassicalAlgorithm.NS)
        rest = mask
        if generation:
            rest = mask.copy()
            rest[generation[0].mask > 0] = 0
        for radius in (THIN_RADIUS, *LARGE_JOB_THIN_RADII):
            thick = thick_holes(rest, regions, radius)
            pieces = regions_around_mask(thick, method.context_margin)
            if sum(method.input_pixels(r, image.height, image.width) for r in pieces) <= budget:
                break
        thin = rest.copy()
        thin[holes_of(thick)] = 0
        del regions
        passes = [_Pass(method, pieces, mask),
                  _Pass(classical, regions_around_mask(thin, classical.context_margin), thin)]
        thin_pixels = sum(r.hole_count for r in passes[1].regions)
        if thin_pixels:
            notices.append(f"Thin scratches and dust (up to about {2 * radius:.0f} px wide; {thin_pixels:,} pixels in "
                           f"{len(passes[1].regions):,} places) were "
                           f"filled with {classical.label} to keep this large job fast; choose {method.label} as the "
                           "method to use the model everywhere.")
        return [p for p in passes if p.regions] + generation

    def for_extension(self, request: InpaintRequest) -> InpaintRequest:
        """``request`` for filling an extended canvas's band: ``auto`` with a seed other than
        :data:`MOST_LIKELY_SEED` names the default generation model when it is usable (a band of
        any width has photo on one side only), else stays ``auto``."""
        if request.method.strip().lower() != AUTO or request.seed == MOST_LIKELY_SEED:
            return request
        entry = self.registry.default_entry(ModelKind.GENERATE)
        if entry is None or self.registry.problem(entry) is not None:
            return request
        return replace(request, method=entry.id)

    def _auto_generator(self, request: InpaintRequest, notices: list[str]) -> OnnxFill | None:
        """The default generation model as a fill for ``auto``, or None when none is installed
        (the inpainting model fills everything then) or it cannot be used (with a notice)."""
        entry = self.registry.default_entry(ModelKind.GENERATE)
        if entry is None:
            return None
        try:
            loaded = self.registry.open(entry.id, request.device)
        except ModelError as exc:
            notices.append(f"{exc} Torn edges and large losses were filled with the inpainting model instead.")
            return None
        return OnnxFill(loaded, harmonize=request.harmonize, grain=request.grain, seed=request.seed,
                        no_source=request.no_source)


def needs_generation(region: Region, height: int, width: int) -> bool:
    """Whether ``auto`` gives ``region`` to the generation model: its holes reach the photo's
    edge at least :data:`GENERATE_EDGE_DEPTH` deep, or are :data:`GENERATE_DEPTH` deep."""
    depth = inner_distance(region, (height, width))
    deepest = float(depth.max()) if depth.size else 0.0
    if deepest >= GENERATE_DEPTH:
        return True
    if deepest < GENERATE_EDGE_DEPTH:
        return False
    box, holes = region.box, region.holes
    return bool((box.y0 == 0 and holes[0].any()) or (box.x0 == 0 and holes[:, 0].any())
                or (box.y1 == height and holes[-1].any()) or (box.x1 == width and holes[:, -1].any()))


def _follow_description(region: Region, wide: np.ndarray, described: np.ndarray, plain: np.ndarray,
                        size: tuple[int, int] | None = None) -> np.ndarray:
    """The described fill in the wide parts of ``region``'s holes, handing over from the plain
    fill (made without the description) over the first :data:`DESCRIPTION_RAMP` pixels in from
    the edge; thin parts keep the plain fill."""
    weight = (np.clip(inner_distance(region, size) / DESCRIPTION_RAMP, 0.0, 1.0) * wide)[:, :, None]
    mixed = plain.astype(np.float32) + weight * (described.astype(np.float32) - plain.astype(np.float32))
    return np.rint(mixed).astype(plain.dtype)
