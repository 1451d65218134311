"""The Restore step for the window: the preview of the visible part, the whole photo restored
on the window's one job controller, and the section kept showing what auto means.

Preview: whenever the options, the view, the divider or the photo change, the visible part of
the photo right of the split divider (in photo pixels; left of it the photo shows as it is) is
restored on the preview thread, in pieces of about half a second each, nearest the divider's
middle first, each with a margin for the network's context, and written into a copy of the
photo that the split view shows beside the photo as it is. A preview that a newer change made
outdated is cancelled at its next tile, and only the newest request runs after it. Zoomed out
on a large scan the view holds more than is worth restoring for a look, so the preview covers
part of it, beside the divider, at full resolution: it shows exactly the pixels Restore would
give, never a scaled-down guess.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtWidgets import QStatusBar

from restorer_app.engine.regions import Box
from restorer_app.engine.registry import ModelKind, ModelRegistry
from restorer_app.engine.restoration import TILE_CONTEXT, RestoreResult

from . import dialogs
from .actions import WindowActions
from .canvas import CanvasView
from .canvas_layers import CanvasLayers
from .document import PendingRestore
from .editor import Editor
from .fill_controller import FillController
from .fill_worker import FillJob
from .restore_section import RestoreSection
from .restore_worker import PhotoMeasure, PreviewResult, PreviewWorker, RestorerCache, RestoreWorker

#: Pixels beyond the view the preview restores too, so the view's edge has the context the
#: network needs and looks as it will after Restore.
PREVIEW_MARGIN = TILE_CONTEXT
#: The most pixels one preview restores, and the most in one piece: a piece takes about half a
#: second at the restore model's speed on two CPU cores, and the view fills in piece by piece,
#: nearest the divider's middle first.
PREVIEW_MAX_PIXELS = 800_000
PREVIEW_PIECE_PIXELS = 160_000
#: Changes closer together than this are one preview (a slider dragged, a view scrolled).
PREVIEW_DELAY_MS = 60


def preview_area(view: Box, height: int, width: int, split_x: int | None = None,
                 budget: int = PREVIEW_MAX_PIXELS) -> Box:
    """The part of the photo a preview shows: what is in ``view`` (clipped to the photo), right
    of the split divider at ``split_x`` when there is one (left of it the photo shows as it is),
    at most ``budget`` pixels around its middle."""
    x0, y0 = max(0, view.x0, split_x or 0), max(0, view.y0)
    x1, y1 = max(x0 + 1, min(width, view.x1)), max(y0 + 1, min(height, view.y1))
    shown_w, shown_h = x1 - x0, y1 - y0
    if shown_w * shown_h > budget:
        scale = math.sqrt(budget / (shown_w * shown_h))
        new_w, new_h = max(1, int(shown_w * scale)), max(1, int(shown_h * scale))
        # Cut from the far side only when the area starts at the divider, so it stays beside it.
        x0 += 0 if split_x is not None and x0 == split_x else (shown_w - new_w) // 2
        y0 += (shown_h - new_h) // 2
        shown_w, shown_h = new_w, new_h
    return Box(x0, y0, min(width, x0 + shown_w), min(height, y0 + shown_h))


def preview_pieces(area: Box, height: int, width: int, anchor: tuple[float, float],
                   piece: int = PREVIEW_PIECE_PIXELS, margin: int = PREVIEW_MARGIN) -> list[tuple[Box, Box]]:
    """``area`` cut into a grid of pieces of at most ``piece`` pixels, nearest ``anchor`` (x, y)
    first, each with the part around it (a ``margin`` more, clipped) it is restored from."""
    side = math.sqrt(piece)  # near-square pieces: the least margin for their area
    columns, rows = max(1, math.ceil(area.width / side)), max(1, math.ceil(area.height / side))
    xs = [area.x0 + round(i * area.width / columns) for i in range(columns + 1)]
    ys = [area.y0 + round(j * area.height / rows) for j in range(rows + 1)]
    boxes = [Box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(columns)
             if xs[i + 1] > xs[i] and ys[j + 1] > ys[j]]
    boxes.sort(key=lambda b: math.hypot((b.x0 + b.x1) / 2 - anchor[0], (b.y0 + b.y1) / 2 - anchor[1]))
    return [(box, box.expanded(margin, height, width)) for box in boxes]


class RestoreFlow(QObject):
    #: A preview arrived: the Box of the photo it shows.
    preview_shown = Signal(object)
    #: The estimate of what auto means for this photo is known (or forgotten).
    measured = Signal()
    #: What the canvas should compare changed (the preview came or went).
    layers_changed = Signal()

    def __init__(self, editor: Editor, jobs: FillController, registry: ModelRegistry, section: RestoreSection | None,
                 layers: CanvasLayers, canvas: CanvasView, actions: WindowActions, status: QStatusBar,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._editor, self._jobs, self._section = editor, jobs, section
        self._layers, self._canvas, self._actions, self._status = layers, canvas, actions, status
        entry = registry.default_entry(ModelKind.RESTORE)
        self._restorers = RestorerCache(registry, entry.id) if entry is not None and section is not None else None
        self.measure: PhotoMeasure | None = None
        self._generation = 0  # one per state of the photo; results of an older one are dropped
        self._buffer: np.ndarray | None = None
        self._job: FillJob | None = None
        self._job_generation = -1
        self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._run_preview)
        if section is None:
            return
        editor.document_changed.connect(self._on_document_changed)
        editor.pixels_changed.connect(self._on_pixels_changed)
        editor.pending_changed.connect(self._on_pending_changed)
        section.options_changed.connect(self._schedule_preview)
        actions.preview_restore.toggled.connect(self.set_previewing)
        canvas.zoom_changed.connect(self._schedule_preview)
        canvas.split_moved.connect(self._schedule_preview)
        actions.split.toggled.connect(self._schedule_preview)
        canvas.horizontalScrollBar().valueChanged.connect(self._schedule_preview)
        canvas.verticalScrollBar().valueChanged.connect(self._schedule_preview)
        jobs.restored.connect(self._on_restored)
        jobs.progress.connect(self._on_progress)
        jobs.done.connect(lambda: section.set_restoring(False))

    @property
    def available(self) -> bool:
        return self._restorers is not None

    @property
    def previewing(self) -> bool:
        return self._buffer is not None

    # ------------------------------------------------------------------ restore

    def can_start(self) -> bool:
        document = self._editor.document
        return self.available and document is not None and not self._jobs.running and document.pending is None

    def start(self) -> bool:
        """Restore the whole photo with the section's options; False if nothing was started."""
        if not self.can_start():
            return False
        self._actions.preview_restore.setChecked(False)  # the review compares the whole photo
        self._cancel_preview()
        self._editor.locked = True
        self._section.set_restoring(True)
        self._jobs.start_restore(RestoreWorker(self._restorers, self._editor.document.image.pixels,
                                               self._section.options()))
        return True

    def cancel(self) -> None:
        if self._jobs.restoring:
            self._jobs.cancel()
            self._section.set_progress(self._section.progress_bar.value() / 1000, "Cancelling…")

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._jobs.restoring:
            self._section.set_progress(fraction, message)

    def _on_restored(self, result: RestoreResult) -> None:
        if self._editor.document is None:  # delivered while the window closes
            return
        self._editor.set_pending_restore(result)
        self._status.showMessage(f"Restored the photo in {result.seconds:.1f} s ({result.changed_pixels:,} pixels "
                                 "changed). Enter accepts, Esc discards.", 10000)

    def show_state(self, editing: bool) -> None:
        """The section as the window is now: options locked unless ``editing``, the review shown."""
        if self._section is None:
            return
        document = self._editor.document
        pending = document.pending if document is not None else None
        reviewing = isinstance(pending, PendingRestore)
        self._section.set_reviewing(reviewing, review_summary(pending.result) if reviewing else "")
        self._section.set_editable(editing)

    # ------------------------------------------------------------------ preview

    def set_previewing(self, on: bool) -> None:
        document = self._editor.document
        on = on and document is not None and self.available and document.pending is None
        if on == self.previewing:
            return
        if on:
            self._buffer = document.image.pixels.copy()
            self._layers.set_preview(self._buffer)
            self._actions.split.setChecked(True)
            self._section.show_preview_note("Restoring the visible part…")
            self._schedule_preview()
        else:
            self._cancel_preview()
            self._buffer = None
            self._layers.set_preview(None)
            self._canvas.set_preview_frame(None)
            self._section.show_preview_note("")
            if self._actions.preview_restore.isChecked():
                self._actions.preview_restore.setChecked(False)
        self.layers_changed.emit()

    def _schedule_preview(self, *_args) -> None:
        if self.available and self._editor.document is not None and (self.previewing or self.measure is None):
            self._timer.start()

    def _run_preview(self) -> None:
        if self._job is not None:  # outdated: stop it at its next tile, then run the newest request
            self._job.cancel()
            self._again = True
            return
        document = self._editor.document
        if document is None or self._jobs.running or document.pending is not None:
            return
        pieces: list[tuple[Box, Box]] = []
        if self.previewing:
            height, width = document.size
            canvas = self._canvas
            split_x = canvas.split_x if canvas.split else None
            area = preview_area(self._visible_box(), height, width, split_x)
            anchor = (area.x0 if split_x is not None else (area.x0 + area.x1) / 2, (area.y0 + area.y1) / 2)
            pieces = preview_pieces(area, height, width, anchor)
        elif self.measure is not None:
            return
        options = self._section.options()
        worker = PreviewWorker(self._restorers, document.image.pixels, pieces, options, self.measure)
        worker.partial.connect(self._on_preview_partial)
        worker.returned.connect(self._on_preview_returned)
        worker.errored.connect(self._on_preview_errored)
        job = FillJob(worker, self)
        job.thread.setObjectName("restorer-preview")
        job.done.connect(self._on_preview_done)
        self._job, self._job_generation = job, self._generation
        job.start()

    def _visible_box(self) -> Box:
        rect: QRectF = self._canvas.mapToScene(self._canvas.viewport().rect()).boundingRect()
        return Box(math.floor(rect.left()), math.floor(rect.top()), math.ceil(rect.right()), math.ceil(rect.bottom()))

    def _current(self) -> bool:
        """The signal comes from the preview running now, made for the photo as it is."""
        return self._job is not None and self.sender() is self._job.worker and self._job_generation == self._generation

    def _on_preview_partial(self, box: Box, pixels: np.ndarray) -> None:
        if self._current() and self._buffer is not None:
            self._buffer[box.slices] = pixels
            self._layers.refresh_preview(box)

    def _on_preview_returned(self, result: PreviewResult) -> None:
        if not self._current():
            return
        self.measure = result.measure
        self._section.show_estimate(result.measure.estimate)
        self.measured.emit()
        box = result.box
        if box is None or self._buffer is None:
            return
        height, width = self._editor.document.size
        split_x = self._canvas.split_x if self._canvas.split else None
        whole = box.width * box.height >= 0.999 * self._visible_area(height, width, split_x)
        self._canvas.set_preview_frame(None if whole else box)
        self._section.show_preview_note(
            "Right of the divider: the visible part restored. Restore does the whole photo." if whole else
            f"Right of the divider: {box.width} x {box.height} px of the view restored, at full "
            "resolution (zoom in to preview elsewhere). Restore does the whole photo.")
        self.preview_shown.emit(box)

    def _visible_area(self, height: int, width: int, split_x: int | None) -> int:
        view = self._visible_box()
        return max(1, (min(width, view.x1) - max(0, view.x0, split_x or 0)) * (min(height, view.y1) - max(0, view.y0)))

    def _on_preview_errored(self, error: BaseException) -> None:
        if self._job is not None and self.sender() is self._job.worker:
            self._status.showMessage(f"The restore preview failed: {dialogs.error_sentence(error)}", 10000)
            self._again = False
            self._actions.preview_restore.setChecked(False)

    def _on_preview_done(self) -> None:
        if self.sender() is not self._job:
            return
        job, self._job = self._job, None
        job.deleteLater()
        if self._again:
            self._again = False
            self._run_preview()

    def _cancel_preview(self) -> None:
        self._timer.stop()
        self._again = False
        if self._job is not None:
            self._job.cancel()

    def stop(self) -> None:
        """Cancel the preview and wait for its thread (before quitting)."""
        self._cancel_preview()
        job, self._job = self._job, None
        if job is not None:
            job.wait()
            job.deleteLater()

    # ------------------------------------------------------------------ changes

    def _forget_photo(self) -> None:
        self._generation += 1
        self.measure = None
        if self._section is not None:
            self._section.show_estimate(None)
        self.measured.emit()

    def _on_document_changed(self) -> None:
        # The window shows the new photo's layers next; the old preview just goes.
        self._cancel_preview()
        self._buffer = None
        self._layers.set_preview(None)
        self._canvas.set_preview_frame(None)
        self._section.show_preview_note("")
        self._actions.preview_restore.setChecked(False)  # set_previewing finds nothing left to do
        self._forget_photo()
        self._schedule_preview()  # measure what auto means for this photo

    def _on_pixels_changed(self, box: Box) -> None:
        self._forget_photo()
        if self.previewing:  # the copy shown must follow the photo outside the previewed part too
            self._buffer[box.slices] = self._editor.document.image.pixels[box.slices]
            self._layers.refresh_preview(box)
        self._schedule_preview()

    def _on_pending_changed(self) -> None:
        document = self._editor.document
        if document is not None and document.pending is not None:
            self._actions.preview_restore.setChecked(False)
        else:
            self._schedule_preview()


def review_summary(result: RestoreResult) -> str:
    """'Denoise 31 % (auto) · JPEG blocks 0 % · Sharpen 12 % (auto) · colour corrected'."""
    names = ("Denoise", "JPEG blocks", "Sharpen")
    parts = [f"{name} {round(100 * value)} %" + (" (auto)" if auto else "")
             for name, value, auto in zip(names, result.strengths.values(), result.auto)]
    colour = ("colour corrected" if result.colour_changed else "colour already fine" if result.colour
              else "colour left as it is")
    return " · ".join(parts + [colour]) + f"; {result.changed_pixels:,} pixels changed."
