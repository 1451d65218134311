"""What archivists must be able to document: which pixels were synthesized or restored, how, and by what.

Every exported image gets embedded tags (software and a one-line history), an XMP packet (the
source's, kept, with an ``xmpMM:History`` event per operation added; see :mod:`xmp`) and a sidecar
JSON beside it with checksums of the source and the output and one record per operation
(:mod:`export` writes the three together and checks that they still agree). This module holds
the record of one operation (a fill, a repair or a whole-photo restore) and the tags embedded
in the file.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .image_formats import HISTORY_KEY
from .masks import holes_of

if TYPE_CHECKING:
    from .detection import DamageMap


def app_version() -> str:
    from restorer_app import __version__

    return __version__


@dataclass(frozen=True)
class Operation:
    """One fill, as it must be recorded."""

    method: str
    method_label: str
    model_id: str | None
    model_version: str | None
    model_sha256: str | None
    description: str
    seed: int
    device: str
    time: str
    mask_sha256: str
    pixels_changed: int
    feather: int = 0
    #: Of ``pixels_changed``, those that ``auto`` filled classically (thin scratches and dust
    #: on a large job); the rest came from the model.
    pixels_classical: int = 0
    #: The learned fill's colour was matched to its surroundings (blend.harmonize_fill).
    colour_matched: bool = False
    #: Grain matching strength applied to the learned fill (engine/grain.py); 0 = none.
    grain: float = 0.0
    #: The learned fill ran the model once per hole, not on the crop and its mirror image.
    quick: bool = False
    #: A repair: the mask was proposed by this damage detector (engine/detection.py) at
    #: ``detection_threshold``, grown by ``detection_grow`` px; ``detected_pixels`` were
    #: flagged before growing. None / 0 for a mask painted or loaded by the user.
    detector_id: str | None = None
    detector_version: str | None = None
    detector_sha256: str | None = None
    detection_threshold: float | None = None
    detection_grow: int = 0
    detected_pixels: int = 0
    #: "fill" (inpaint, repair) or "restore": the whole photo through a restoration model
    #: (engine/restoration.py); its mask is then the whole photo and its pixels are changed,
    #: not synthesized.
    action: str = "fill"
    #: A restore: the strengths the model ran with, which were ``auto`` (estimated, by
    #: ``strengths_estimated_by``: "model", "model+blockiness" or "classical"), and the colour step (on, and
    #: whether it moved any pixel).
    denoise: float | None = None
    deblock: float | None = None
    sharpen: float | None = None
    denoise_auto: bool = False
    deblock_auto: bool = False
    sharpen_auto: bool = False
    strengths_estimated_by: str | None = None
    colour_correction: bool = False
    colour_changed: bool = False
    #: ``auto`` gave torn edges and large losses to this generation model (kind ``generate``);
    #: ``pixels_generated`` of ``pixels_changed`` are its, and ``seed`` picked its variation.
    generator_id: str | None = None
    generator_version: str | None = None
    generator_sha256: str | None = None
    pixels_generated: int = 0
    #: The fill was one of several variations (seeds ``seed``, ``seed`` + 1, ...): its number,
    #: from 1; 0 when only one fill was made.
    variation: int = 0
    #: An extended canvas ("extend"): pixels added on each side; the new band is the mask, and
    #: every pixel in it was generated.
    extend_top: int = 0
    extend_right: int = 0
    extend_bottom: int = 0
    extend_left: int = 0
    #: Source control: this many pixels of the photo were kept out of copying, never used as
    #: texture for the fill (InpaintRequest.no_source); 0 when none were.
    no_source_pixels: int = 0

    @property
    def is_restore(self) -> bool:
        return self.action == RESTORE_ACTION

    @property
    def is_extend(self) -> bool:
        return self.action == EXTEND_ACTION

    @property
    def restore_summary(self) -> str:
        """'denoise 0.31 (auto), deblock 0, sharpen 0 (auto, estimated by the model), colour corrected'."""
        by_model = self.strengths_estimated_by in ("model", "model+blockiness")
        parts = []
        for name in ("denoise", "deblock", "sharpen"):
            measured = not by_model or (name == "deblock" and self.strengths_estimated_by == "model+blockiness")
            by = f", estimated {'by measurement' if measured else 'by the model'}"
            auto = getattr(self, f"{name}_auto")
            parts.append(f"{name} {getattr(self, name) or 0:.2g}" + (f" (auto{by})" if auto else ""))
        colour = ("colour corrected" if self.colour_changed else "colour checked, nothing to correct"
                  if self.colour_correction else "colour correction off")
        return ", ".join(parts + [colour])

    @property
    def detector_summary(self) -> str | None:
        """'restorer-detect 1.0 at threshold 0.5, grown 1 px', or None for a mask not detected."""
        if not self.detector_id:
            return None
        grown = f", grown {self.detection_grow} px" if self.detection_grow else ""
        return f"{self.detector_id} {self.detector_version} at threshold {self.detection_threshold:g}{grown}"


def operation_for(result, request, mask: np.ndarray) -> Operation:
    """The record of one :class:`~restorer_app.engine.pipeline.FillResult`."""
    model = result.model
    generator = result.generator
    return Operation(
        method=result.method_id,
        method_label=result.method_label,
        model_id=model.id if model else None,
        model_version=model.version if model else None,
        model_sha256=model.sha256 if model else None,
        description=request.prompt,
        seed=request.seed,
        device=result.provider,
        time=now_iso(),
        mask_sha256=mask_sha256(mask),
        pixels_changed=result.changed_pixels,
        feather=request.feather,
        pixels_classical=result.classical_pixels,
        colour_matched=request.harmonize and model is not None,
        grain=request.grain if model is not None else 0.0,
        quick=request.quick and model is not None,
        generator_id=generator.id if generator else None,
        generator_version=generator.version if generator else None,
        generator_sha256=generator.sha256 if generator else None,
        pixels_generated=result.generated_pixels,
        no_source_pixels=int(np.count_nonzero(request.no_source)) if request.no_source is not None and model else 0,
    )


RESTORE_ACTION = "restore"
#: A fill of new margins around the photo (engine/canvas.py); recorded like a fill.
EXTEND_ACTION = "extend"


def restore_operation(result, height: int, width: int) -> Operation:
    """The record of one :class:`~restorer_app.engine.restoration.RestoreResult` of a
    ``height`` x ``width`` photo."""
    model = result.model
    strengths, auto = result.strengths, result.auto
    return Operation(
        method=model.id, method_label=f"{model.name} {model.version}", model_id=model.id,
        model_version=model.version, model_sha256=model.sha256, description="", seed=0, device=result.provider,
        time=now_iso(), mask_sha256=whole_photo_sha256(height, width), pixels_changed=result.changed_pixels,
        action=RESTORE_ACTION, denoise=round(strengths.denoise, 4), deblock=round(strengths.deblock, 4),
        sharpen=round(strengths.sharpen, 4), denoise_auto=auto[0], deblock_auto=auto[1], sharpen_auto=auto[2],
        strengths_estimated_by=result.estimated_by, colour_correction=result.colour,
        colour_changed=result.colour_changed,
    )


def whole_photo_sha256(height: int, width: int) -> str:
    """:func:`mask_sha256` of a mask covering the whole photo, without building it."""
    count = height * width
    digest = hashlib.sha256(f"{height}x{width}:".encode())
    digest.update(b"\xff" * (count // 8) + (bytes([(0xFF << (8 - count % 8)) & 0xFF]) if count % 8 else b""))
    return digest.hexdigest()


def with_detection(operation: Operation, damage: "DamageMap", threshold: float, grow: int = 0) -> Operation:
    """``operation`` recording that its mask came from ``damage`` at ``threshold``, grown by
    ``grow`` px (a repair)."""
    from .detection import level_of

    flagged = int((damage.probability >= level_of(threshold)).sum())
    return dataclasses.replace(operation, detector_id=damage.model_id, detector_version=damage.model_version,
                               detector_sha256=damage.model_sha256, detection_threshold=float(threshold),
                               detection_grow=int(grow), detected_pixels=flagged)


def mask_sha256(mask: np.ndarray) -> str:
    """Checksum of a mask's content (shape + binary values), independent of file format."""
    digest = hashlib.sha256(f"{mask.shape[0]}x{mask.shape[1]}:".encode())
    digest.update(np.packbits(holes_of(mask)).tobytes())
    return digest.hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def embedded_tags(operations: list[Operation]) -> dict[str, str]:
    """Text tags written into the output file itself (PNG text, TIFF/EXIF Software + description)."""
    fills = [op for op in operations if not op.is_restore]
    restores = [f"restored by {op.method_label} ({op.restore_summary})" for op in operations if op.is_restore]
    methods = sorted({op.method_label for op in fills})
    detectors = sorted({op.detector_summary for op in fills if op.detector_summary})
    found = f"; damage found by {', '.join(detectors)}" if detectors else ""
    count = len(fills)
    filled = (f"{count} fill{'s' if count != 1 else ''} ({', '.join(methods)}{found}), "
              f"{synthesized_pixels(operations)} pixels synthesized")
    steps = "; ".join(restores + ([filled] if fills or not restores else []))
    history = f"Retouched with Restorer {app_version()}: {steps}."
    return {"Software": f"Restorer {app_version()}", HISTORY_KEY: history}


def synthesized_pixels(operations: list[Operation]) -> int:
    """Pixels made up by fills (a restore changes pixels but makes none up)."""
    return sum(op.pixels_changed for op in operations if not op.is_restore)
