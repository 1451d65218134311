"""Runs a fill (or a damage detection) off the GUI thread and reports through signals.

The contract follows superqt's workers: ``started``, ``progress(fraction, message)``,
then exactly one of ``returned(result)``, ``errored(exception)`` or ``cancelled()``, and
``finished()`` always last. ``returned`` never fires once a cancel was asked for.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from restorer_app.engine.canvas import Margins, extend_canvas
from restorer_app.engine.detection import DamageMap, detect_damage
from restorer_app.engine.errors import OperationCancelled
from restorer_app.engine.imageio import RasterImage
from restorer_app.engine.pipeline import FillResult, Inpainter, InpaintRequest
from restorer_app.engine.progress import PrefixedProgress, Progress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import Device

# Every thread a job started, so tests (and quitting) can check none is left running.
_threads: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def running_threads() -> list[QThread]:
    return [thread for thread in list(_threads) if thread.isRunning()]


class SignalProgress(Progress):
    """The engine's progress token, turned into a callback; each report is also a cancel point."""

    def __init__(self, emit: Callable[[float, str], None]) -> None:
        super().__init__()
        self._emit = emit

    def report(self, fraction: float, message: str = "") -> None:
        self.check_cancelled()
        self._emit(float(fraction), message)


class Worker(QObject):
    """One long engine call (:meth:`compute`), made in the job's thread."""

    started = Signal()
    progress = Signal(float, str)
    returned = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._token = SignalProgress(self.progress.emit)

    def compute(self, progress: Progress) -> object:
        raise NotImplementedError

    def cancel(self) -> None:
        """Ask the fill to stop at its next cancellation point (safe from any thread)."""
        self._token.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            result = self.compute(self._token)
        except OperationCancelled:
            self.cancelled.emit()
        except Exception as exc:  # routed to the window's one error dialog, never swallowed
            self.errored.emit(exc)
        else:
            if self._token.cancelled:  # a cancel that arrived after the last check still wins
                self.cancelled.emit()
            else:
                self.returned.emit(result)
        finally:
            self.finished.emit()


class FillWorker(Worker):
    """Calls :meth:`Inpainter.inpaint` once."""

    def __init__(self, inpainter: Inpainter, image: RasterImage, mask: np.ndarray, request: InpaintRequest) -> None:
        super().__init__()
        self._inpainter = inpainter
        self._image = image
        self._mask = mask
        self._request = request

    def compute(self, progress: Progress) -> object:
        return self._inpainter.inpaint(self._image, self._mask, self._request, progress)


def _variation_progress(parent: Progress, number: int, count: int) -> PrefixedProgress:
    """One variation's share of the job, its messages prefixed "Variation 2 of 4: "."""
    return PrefixedProgress(parent, (number - 1) / count, number / count, f"Variation {number} of {count}")


class VariationsWorker(Worker):
    """Calls :meth:`Inpainter.inpaint` once per seed (the request's, then the next ones) and
    announces each finished fill with ``variation(result, number, request)`` as soon as it is
    made, so the first can be looked at while the others are computed. Returns the list."""

    variation = Signal(object, int, object)

    def __init__(self, inpainter: Inpainter, image: RasterImage, mask: np.ndarray, request: InpaintRequest,
                 count: int) -> None:
        super().__init__()
        self._inpainter, self._image, self._mask, self._request = inpainter, image, mask, request
        self.count = count

    def compute(self, progress: Progress) -> object:
        results = []
        for number in range(1, self.count + 1):
            request = replace(self._request, seed=self._request.seed + number - 1)
            result = self._inpainter.inpaint(self._image, self._mask, request,
                                             _variation_progress(progress, number, self.count))
            progress.check_cancelled()
            self.variation.emit(result, number, request)
            results.append(result)
        return results


@dataclass(frozen=True)
class Extension:
    """What an extension job gives back: the canvas, its band and the band's fill."""

    canvas: RasterImage
    band: np.ndarray
    result: FillResult
    margins: Margins
    request: InpaintRequest


class ExtendWorker(Worker):
    """Puts the photo on the larger canvas and fills the band (one ``inpaint`` call)."""

    def __init__(self, inpainter: Inpainter, image: RasterImage, margins: Margins, request: InpaintRequest) -> None:
        super().__init__()
        self._inpainter, self._image, self._margins, self._request = inpainter, image, margins, request

    def compute(self, progress: Progress) -> Extension:
        progress.report(0.0, "Extending the canvas…")
        canvas, band = extend_canvas(self._image, self._margins)
        result = self._inpainter.inpaint(canvas, band, self._inpainter.for_extension(self._request), progress)
        return Extension(canvas, band, result, self._margins, self._request)


class DetectWorker(Worker):
    """Opens a ``detect`` model and finds the damage in a photo's pixels."""

    def __init__(self, registry: ModelRegistry, model_id: str, pixels: np.ndarray) -> None:
        super().__init__()
        self._registry = registry
        self._model_id = model_id
        self._pixels = pixels

    def compute(self, progress: Progress) -> DamageMap:
        progress.report(0.0, "Loading the damage detector…")
        model = self._registry.open(self._model_id, Device.AUTO)
        return detect_damage(self._pixels, model, progress)


class FillJob(QObject):
    """Owns a worker and the QThread it runs in; keep it alive until ``done`` fires."""

    done = Signal()

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("restorer-fill")
        _threads.add(self.thread)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: quit must not wait for the GUI event loop, or wait() on close would deadlock.
        worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self.done)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.worker.cancel()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, milliseconds: int = -1) -> bool:
        """Block until the thread ended; True if it did."""
        if milliseconds < 0:
            return self.thread.wait()
        return self.thread.wait(milliseconds)
