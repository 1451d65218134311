"""The spot healing brush: each click or short stroke is filled as soon as the button is
released, in the background, and accepted as one undo step ("Spot heal") that also takes back
the stroke. Strokes made while an earlier one is healing wait in a queue, so a restorer can
click speck after speck without waiting.

Thin spots (no wider than about 10 px, ``pipeline.THIN_RADIUS``) are filled with Navier-Stokes,
which is instant and as good as a model there; wider ones with the chosen method (``auto``: the
model). With *Review each heal* on, each heal is shown for review (Accept / Discard) instead.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Callable

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar

from restorer_app.engine.pipeline import THIN_RADIUS, FillResult, InpaintRequest

from .brush_stroke import MaskPatch
from .editor import Editor
from .fill_controller import FillController


def heal_holes(stroke: MaskPatch, shape: tuple[int, int]) -> np.ndarray:
    """The photo-sized mask (255) of what ``stroke`` painted."""
    holes = np.zeros(shape, np.uint8)
    holes[stroke.box.slices][(stroke.after > 0) & (stroke.before == 0)] = 255
    return holes


def half_width(stroke: MaskPatch) -> float:
    """How far the middle of what ``stroke`` painted lies from its edge, in pixels."""
    painted = ((stroke.after > 0) & (stroke.before == 0)).astype(np.uint8)
    if not painted.any():
        return 0.0
    return float(cv2.distanceTransform(np.pad(painted, 1), cv2.DIST_L2, 3).max())


def heal_feather(depth: float, hardness: float) -> int:
    """The soft edge of a heal of half-width ``depth`` with brush ``hardness`` (0..1): a fully
    soft brush fades over the whole half-width (blend.soft_edge_weight keeps it to a third of
    the way in)."""
    return round((1.0 - hardness) * depth)


class HealFlow(QObject):
    #: A heal was accepted (its pixel count), or put up for review.
    healed = Signal(int)

    def __init__(self, editor: Editor, jobs: FillController, status: QStatusBar,
                 request: Callable[[], InpaintRequest], review: Callable[[], bool],
                 parent: QObject | None = None, hardness: Callable[[], float] = lambda: 1.0) -> None:
        super().__init__(parent)
        self._editor, self._jobs, self._status = editor, jobs, status
        self._request, self._review, self._hardness = request, review, hardness
        self._queue: deque[MaskPatch] = deque()
        self._current: MaskPatch | None = None
        self._reviewing: MaskPatch | None = None
        # The window hands this flow the outcome of the jobs it owns (take, failed).
        jobs.done.connect(self._next)
        editor.pending_changed.connect(self._on_pending_changed)
        editor.document_changed.connect(self._forget)

    @property
    def owns_job(self) -> bool:
        """The running job is a heal (the window leaves its outcome to this flow)."""
        return self._current is not None

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def submit(self, stroke: MaskPatch) -> None:
        """A heal stroke was painted (already on the mask): heal it now or after the others."""
        self._queue.append(stroke)
        self._next()

    def _next(self) -> None:
        document = self._editor.document
        if (self._current is not None or not self._queue or document is None or self._jobs.running
                or document.pending is not None):
            return
        stroke = self._queue.popleft()
        holes = heal_holes(stroke, document.size)
        if not holes.any():
            self._next()
            return
        request = self._request()
        depth = half_width(stroke)
        feather = heal_feather(depth, self._hardness())
        if feather > request.feather:
            request = replace(request, feather=feather)
        if depth <= THIN_RADIUS:
            request = replace(request, method="ns", prompt="")
        self._current = stroke
        waiting = f" ({len(self._queue)} more waiting)" if self._queue else ""
        self._status.showMessage(f"Healing {np.count_nonzero(holes):,} pixels{waiting}…", 4000)
        self._jobs.start(document.image, holes, request)

    def take(self, result: FillResult, mask: np.ndarray, request: InpaintRequest) -> None:
        """The heal's fill is back: accept it (or put it up for review)."""
        stroke, self._current = self._current, None
        if stroke is None or self._editor.document is None:
            return
        self._editor.set_pending(result, mask, request)
        if self._review():
            self._reviewing = stroke
            self._status.showMessage("Spot heal ready: Enter accepts it, Esc discards it.", 8000)
        else:
            self._editor.accept_heal(stroke)
            self._status.showMessage(f"Healed {result.changed_pixels:,} pixels with {result.method_label} "
                                     f"in {result.seconds:.2f} s. Ctrl+Z undoes it.", 4000)
        self.healed.emit(result.changed_pixels)

    def accept_reviewed(self) -> bool:
        """Accept the heal under review (the window's Accept); False if none is."""
        stroke, self._reviewing = self._reviewing, None
        if stroke is None:
            return False
        self._editor.accept_heal(stroke)
        return True

    def discard_reviewed(self) -> bool:
        """Throw the heal under review away, and its stroke with it."""
        stroke, self._reviewing = self._reviewing, None
        if stroke is None:
            return False
        self._editor.discard_pending()
        self._unpaint(stroke)
        return True

    def failed(self) -> None:
        """A heal failed or was cancelled: its stroke comes off the mask, the queue is dropped."""
        stroke, self._current = self._current, None
        for pending in [stroke, *self._queue]:
            if pending is not None:
                self._unpaint(pending)
        self._queue.clear()

    def _unpaint(self, stroke: MaskPatch) -> None:
        document = self._editor.document
        if document is None:
            return
        box = stroke.box
        painted = (stroke.after > 0) & (stroke.before == 0)
        values = document.mask[box.slices].copy()
        values[painted] = stroke.before[painted]
        self._editor.write_mask_patch(box, values)

    def _on_pending_changed(self) -> None:
        document = self._editor.document
        if document is not None and document.pending is None:
            self._reviewing = None
            self._next()

    def _forget(self) -> None:
        self._queue.clear()
        self._current = self._reviewing = None
