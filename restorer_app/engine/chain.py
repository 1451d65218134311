"""One photo through a chain of steps — restore, then detect and repair or fill a given mask —
as the command line and the batch run it. Qt-free.

The single-file commands (``restorer restore``, ``restorer repair``) and every batch (the
command line's ``restorer batch``, the window's Batch dialog, a Dask cluster's workers) call
:meth:`Chain.run`, so a photo comes out bit for bit the same whichever ran it. Models are opened
once per :class:`Chain`, before any photo is read: a missing or damaged model stops a run
before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detection import DEFAULT_THRESHOLD, REPAIR_GROW, DamageDetector, DamageMap, open_detector
from .errors import MaskError, RestorerError
from .imageio import RasterImage
from .pipeline import FillResult, InpaintRequest, Inpainter
from .progress import Progress
from .provenance import Operation, operation_for, restore_operation, with_detection
from .registry import LoadedModel
from .restoration import PhotoRestorer, RestoreOptions, RestoreResult, open_restorer
from .runtime import Device

RESTORE, REPAIR, INPAINT = "restore", "repair", "inpaint"
#: The chains a batch can run, in the order of work: restore first, then fill.
OPS = (RESTORE, REPAIR, INPAINT, f"{RESTORE}+{REPAIR}", f"{RESTORE}+{INPAINT}")


def op_steps(op: str) -> tuple[str, ...]:
    """The steps of ``op`` ('restore+repair' -> ('restore', 'repair')); raises RestorerError."""
    if op not in OPS:
        raise RestorerError(f"'{op}' is not an operation; choose one of {', '.join(OPS)}.")
    return tuple(op.split("+"))


@dataclass(frozen=True)
class ChainSettings:
    op: str = REPAIR
    restore: RestoreOptions = field(default_factory=RestoreOptions)
    #: The detector's threshold and growth, for ``repair``.
    threshold: float = DEFAULT_THRESHOLD
    grow: int = REPAIR_GROW
    #: How holes are filled, for ``repair`` and ``inpaint``.
    request: InpaintRequest = field(default_factory=InpaintRequest)
    device: Device = Device.AUTO
    #: A restoration model other than the default.
    restore_model: str | None = None

    @property
    def steps(self) -> tuple[str, ...]:
        return op_steps(self.op)

    @property
    def needs_mask(self) -> bool:
        """The chain fills a mask given with each photo (``inpaint``)."""
        return INPAINT in self.steps


@dataclass(frozen=True)
class ChainResult:
    pixels: np.ndarray
    #: The record of every step that ran, in order.
    operations: list[Operation]
    #: What was filled (None when nothing was: a restore alone, or no damage found).
    filled: np.ndarray | None
    restored: RestoreResult | None = None
    damage: DamageMap | None = None
    #: What the detector flagged at the threshold, grown (``repair``; empty when nothing was).
    detected: np.ndarray | None = None
    fill: FillResult | None = None
    #: Notices to pass on (a CUDA fallback, a description not used).
    notices: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        """What did the work, in words: 'restorer-restore 1.0, then Restorer inpainting 1.5'."""
        parts = []
        if self.restored is not None:
            parts.append(f"{self.restored.model.id} {self.restored.model.version}")
        if self.fill is not None:
            parts.append(self.fill.method_label)
        return ", then ".join(parts) or "nothing to do"

    @property
    def models(self) -> list[str]:
        """'id version' of every model the photo went through."""
        seen = []
        for op in self.operations:
            for model_id, version in ((op.model_id, op.model_version), (op.detector_id, op.detector_version),
                                      (op.generator_id, op.generator_version)):
                if model_id and f"{model_id} {version}" not in seen:
                    seen.append(f"{model_id} {version}")
        return seen


class Chain:
    """The models and settings of a run; :meth:`run` takes one photo at a time."""

    def __init__(self, settings: ChainSettings, inpainter: Inpainter | None = None) -> None:
        self.settings = settings
        steps = settings.steps
        self.inpainter = inpainter or Inpainter()
        registry = self.inpainter.registry
        #: Notices from opening the models (a CUDA fallback), said once per run.
        self.notices: list[str] = []
        self.restorer: PhotoRestorer | None = None
        self.detector: LoadedModel | None = None
        if RESTORE in steps:
            model = open_restorer(registry, settings.device, settings.restore_model)
            self.restorer = PhotoRestorer(model)
            self._notice(model)
        if REPAIR in steps:
            self.detector = open_detector(registry, settings.device)
            self._notice(self.detector)

    def _notice(self, model: LoadedModel) -> None:
        if model.runtime.notice and model.runtime.notice not in self.notices:
            self.notices.append(model.runtime.notice)

    def run(self, image: RasterImage, mask: np.ndarray | None = None, progress: Progress | None = None) -> ChainResult:
        """``image`` through every step; ``mask`` (255 = fill) is the one ``inpaint`` fills."""
        progress = progress or Progress()
        settings, steps = self.settings, self.settings.steps
        if settings.needs_mask and mask is None:
            raise MaskError(f"'{settings.op}' fills a mask given with each photo, and none was given.")
        pixels, operations = image.pixels, []
        restored = damage = fill = detected = None
        filled = None
        notices: list[str] = []
        # The restore is the heavy part of a chain that also fills; detection is half of a repair.
        shares = {RESTORE: 0.5 if len(steps) > 1 else 1.0}
        start = 0.0
        for step in steps:
            end = start + shares.get(step, 1.0 - start)
            part = progress.sub(start, end)
            if step == RESTORE:
                restored = self.restorer.restore(pixels, settings.restore, part)
                pixels = restored.pixels
                operations.append(restore_operation(restored, image.height, image.width))
            elif step == REPAIR:
                damage = DamageDetector(self.detector).detect(pixels, part.sub(0.0, 0.5))
                found = detected = damage.mask(settings.threshold, settings.grow)
                if found.any():
                    fill = self.inpainter.inpaint(image.with_pixels(pixels), found, settings.request, part.sub(0.5, 1.0))
                    pixels, filled = fill.pixels, found
                    operations.append(with_detection(operation_for(fill, settings.request, found), damage,
                                                     settings.threshold, settings.grow))
            else:  # INPAINT
                fill = self.inpainter.inpaint(image.with_pixels(pixels), mask, settings.request, part)
                pixels, filled = fill.pixels, mask
                operations.append(operation_for(fill, settings.request, mask))
            if fill is not None:
                notices.extend(n for n in fill.notices if n not in notices)
            start = end
        return ChainResult(pixels, operations, filled, restored, damage, detected, fill, tuple(notices))
