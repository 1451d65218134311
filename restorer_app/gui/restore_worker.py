"""The Restore step's background work: the whole photo restored (a job on the window's one
job controller), and the instant preview of the visible part (its own thread, so a preview
never waits for, or holds up, a fill).

The model is opened once per window and shared by both (ONNX Runtime sessions may run from
several threads). The strengths ``auto`` stands for are estimated once per state of the
photo, on the whole photo as Restore estimates them, so the preview shows what Restore gives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal

from restorer_app.engine.progress import Progress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.regions import Box
from restorer_app.engine.restoration import (PhotoRestorer, RestoreOptions, RestoreResult, Strengths, apply_curves,
                                             open_restorer)
from restorer_app.engine.runtime import Device
from restorer_app.engine import tensors

from .fill_worker import Worker


class RestorerCache:
    """The window's restoration model, opened (verified, loaded) on first use from any thread."""

    def __init__(self, registry: ModelRegistry, model_id: str | None = None) -> None:
        self._registry, self._model_id = registry, model_id
        self._lock = threading.Lock()
        self._restorer: PhotoRestorer | None = None

    def get(self) -> PhotoRestorer:
        with self._lock:
            if self._restorer is None:
                self._restorer = PhotoRestorer(open_restorer(self._registry, Device.AUTO, self._model_id))
            return self._restorer


class RestoreWorker(Worker):
    """Restores a whole photo's pixels."""

    def __init__(self, restorers: RestorerCache, pixels: np.ndarray, options: RestoreOptions) -> None:
        super().__init__()
        self._restorers, self._pixels, self._options = restorers, pixels, options

    def compute(self, progress: Progress) -> RestoreResult:
        progress.report(0.0, "Loading the restoration model…")
        return self._restorers.get().restore(self._pixels, self._options, progress)


@dataclass(frozen=True)
class PhotoMeasure:
    """What a preview needs from the whole photo: the estimated strengths and what said so,
    and the colour step's per-channel histograms (None until colour correction was asked for)."""

    estimate: Strengths
    estimated_by: str
    histograms: list[np.ndarray] | None = None


@dataclass(frozen=True)
class PreviewResult:
    measure: PhotoMeasure
    #: The part of the photo previewed (None: only measured); its pieces came by ``partial``.
    box: Box | None


def photo_histograms(pixels: np.ndarray, rows: int = 256) -> list[np.ndarray]:
    """Per colour channel, how often each level occurs, counted a strip at a time."""
    top = int(tensors.max_value(pixels.dtype))
    colours = 1 if pixels.shape[2] in (1, 2) else 3
    counts = [np.zeros(top + 1, np.int64) for _ in range(colours)]
    for y in range(0, pixels.shape[0], rows):
        strip = pixels[y:y + rows]
        visible = strip[:, :, -1] > 0 if strip.shape[2] in (2, 4) else None
        for channel in range(colours):
            plane = strip[:, :, channel]
            counts[channel] += np.bincount((plane[visible] if visible is not None else plane).ravel(),
                                           minlength=top + 1)
    return counts


class PreviewWorker(Worker):
    """Restores ``pieces`` of the photo (each a part to show and the part around it to restore
    it from), nearest the eye first, with ``options``, ``auto`` resolved to the whole photo's
    estimate; each piece arrives by ``partial`` as soon as it is done. Measures the photo
    first when ``measure`` is None or lacks what the options need. No pieces: only measure."""

    #: One piece done: the Box of the photo it shows, and its restored pixels.
    partial = Signal(object, object)

    def __init__(self, restorers: RestorerCache, pixels: np.ndarray, pieces: list[tuple[Box, Box]],
                 options: RestoreOptions, measure: PhotoMeasure | None) -> None:
        super().__init__()
        self._restorers, self._pixels, self._pieces = restorers, pixels, pieces
        self._options, self._measure = options, measure

    def compute(self, progress: Progress) -> PreviewResult:
        restorer = self._restorers.get()
        measure = self._measure
        if measure is None:
            estimate, by = restorer.estimate(self._pixels, progress.sub(0.0, 0.2))
            measure = PhotoMeasure(estimate, by)
        if self._options.colour and measure.histograms is None:
            measure = PhotoMeasure(measure.estimate, measure.estimated_by, photo_histograms(self._pixels))
        if not self._pieces:
            return PreviewResult(measure, None)
        resolved = [estimate if given is None else given
                    for given, estimate in zip(self._options.given(), measure.estimate.values())]
        options = RestoreOptions(*resolved, colour=False)
        if self._options.colour:
            # The curves of the whole photo, not of the piece: a dark corner in view must not
            # be stretched as if it were the whole picture. (Restore measures them on the
            # restored photo; denoising moves its extremes very little.)
            curves = restorer.colour_curves(measure.histograms, float(tensors.max_value(self._pixels.dtype)))
        step = 0.8 / len(self._pieces)
        for index, (shown, context) in enumerate(self._pieces):
            crop = np.ascontiguousarray(self._pixels[context.slices])
            pixels = restorer.restore(crop, options, progress.sub(0.2 + index * step, 0.2 + (index + 1) * step)).pixels
            pixels = np.ascontiguousarray(pixels[shown.slices_within(context)])
            if self._options.colour:
                apply_curves(pixels, curves, measure.histograms)
            progress.check_cancelled()
            self.partial.emit(shown, pixels)
        boxes = [shown for shown, _ in self._pieces]
        return PreviewResult(measure, Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes),
                                          max(b.x1 for b in boxes), max(b.y1 for b in boxes)))
