"""One background job at a time for the window (a fill, a damage detection or a whole-photo
restore): starts the
worker thread, relays its signals, and makes sure nothing from an old job arrives after the
window moved on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

from restorer_app.engine.imageio import RasterImage
from restorer_app.engine.detection import DamageMap
from restorer_app.engine.pipeline import FillResult, Inpainter, InpaintRequest
from restorer_app.engine.registry import ModelEntry
from restorer_app.engine.restoration import RestoreResult

from .fill_worker import DetectWorker, Extension, FillJob, FillWorker, VariationsWorker, Worker
from .restore_worker import RestoreWorker


class FillController(QObject):
    progress = Signal(float, str)
    returned = Signal(object, object, object)  # FillResult, the mask and the request it was computed from
    #: One of several variations is ready: FillResult, mask, request (with its seed), its number from 1.
    variation = Signal(object, object, object, int)
    detected = Signal(object)  # DamageMap
    restored = Signal(object)  # RestoreResult
    extended = Signal(object)  # Extension
    errored = Signal(object)
    cancelled = Signal()
    #: The job's thread has ended; always last, whatever the outcome.
    done = Signal()

    def __init__(self, inpainter: Inpainter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.inpainter = inpainter
        self.job: FillJob | None = None
        self._mask: np.ndarray | None = None
        self._request: InpaintRequest | None = None

    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def detecting(self) -> bool:
        return self.job is not None and isinstance(self.job.worker, DetectWorker)

    @property
    def restoring(self) -> bool:
        return self.job is not None and isinstance(self.job.worker, RestoreWorker)

    def start(self, image: RasterImage, mask: np.ndarray, request: InpaintRequest, variations: int = 1) -> None:
        """Fill ``mask``; with ``variations`` > 1, that many times with seeds from the request's
        on, each fill announced by ``variation`` as it is made (and ``returned`` not used)."""
        self._mask = mask.copy()  # the result belongs to this mask, whatever is painted next
        self._request = request  # and to this request, which its provenance record names
        if variations > 1:
            worker = VariationsWorker(self.inpainter, image, self._mask, request, variations)
            worker.variation.connect(self._relay_variation)
            self._start(worker)
        else:
            self._start(FillWorker(self.inpainter, image, self._mask, request))

    @property
    def making_variations(self) -> bool:
        return self.job is not None and isinstance(self.job.worker, VariationsWorker)

    def start_detection(self, model: ModelEntry, pixels: np.ndarray) -> None:
        """Find the damage in ``pixels`` with ``model`` (a ``detect`` model of the inpainter's registry)."""
        self._start(DetectWorker(self.inpainter.registry, model.id, pixels))

    def start_job(self, worker: Worker) -> None:
        """Run another kind of job (an ExtendWorker) on the window's one job thread."""
        self._start(worker)

    def start_restore(self, worker: RestoreWorker) -> None:
        """Restore the whole photo (a RestoreWorker, which brings its model and options)."""
        self._start(worker)

    def _start(self, worker: Worker) -> None:
        if self.job is not None:
            raise RuntimeError("A fill, detection or restore is already running.")
        job = FillJob(worker, self)
        # Bound methods of this (GUI-thread) object, so Qt queues the calls to this thread.
        worker.progress.connect(self._relay_progress)
        worker.returned.connect(self._relay_returned)
        worker.errored.connect(self._relay_errored)
        worker.cancelled.connect(self._relay_cancelled)
        job.done.connect(self._finish)
        self.job = job
        job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def stop(self) -> None:
        """Cancel, wait for the thread, and deliver its last signals now (before quitting
        or opening another photo)."""
        if self.job is None:
            return
        self.job.cancel()
        self.job.wait()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall)
        if self.job is not None:  # its done signal was not among the delivered events
            self._finish()

    def _from_current_job(self) -> bool:
        return self.job is not None and self.sender() is self.job.worker

    def _relay_progress(self, fraction: float, message: str) -> None:
        if self._from_current_job():
            self.progress.emit(fraction, message)

    def _relay_returned(self, result: FillResult | DamageMap) -> None:
        if not self._from_current_job():
            return
        if isinstance(result, list):  # variations: each was announced as it was made
            return
        if isinstance(result, Extension):
            self.extended.emit(result)
        elif isinstance(result, DamageMap):
            self.detected.emit(result)
        elif isinstance(result, RestoreResult):
            self.restored.emit(result)
        else:
            self.returned.emit(result, self._mask, self._request)

    def _relay_variation(self, result: FillResult, number: int, request: InpaintRequest) -> None:
        if self._from_current_job():
            self.variation.emit(result, self._mask, request, number)

    def _relay_errored(self, error: BaseException) -> None:
        if self._from_current_job():
            self.errored.emit(error)

    def _relay_cancelled(self) -> None:
        if self._from_current_job():
            self.cancelled.emit()

    def _finish(self) -> None:
        if self.sender() is not None and self.sender() is not self.job:
            return  # a stale job's late signal; stop() already finished it
        job, self.job = self.job, None
        self._mask = self._request = None
        if job is not None:
            job.deleteLater()
        self.done.emit()
