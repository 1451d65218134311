"""The editing session: the document, its undo stack, and signals saying what changed.

Widgets call methods here and listen to the signals; every change to the mask or the
pixels goes through an undo command, which calls back into the ``write``/``apply``
methods so the canvas hears about it the same way for do, undo and redo.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from restorer_app.engine import masks
from restorer_app.engine.pipeline import FillResult
from restorer_app.engine.regions import Box

from .brush_stroke import BrushStroke, MaskPatch
from .document import Document, FillPatch, mask_bounds
from .undo_commands import AcceptFillCommand, MaskPatchCommand


class Editor(QObject):
    document_changed = Signal()
    mask_changed = Signal(object)  # Box that changed
    pixels_changed = Signal(object)  # Box that changed
    pending_changed = Signal()  # a fill entered or left review
    modified_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.undo_stack = QUndoStack(self)
        #: While a fill runs or a result is under review the mask must not change,
        #: because the result was computed from it.
        self.locked = False
        self._stroke: BrushStroke | None = None
        self._mask_count = 0  # nonzero mask pixels, kept up to date patch by patch

    # ------------------------------------------------------------------ document

    def set_document(self, document: Document | None) -> None:
        self._stroke = None
        self.locked = False
        self.undo_stack.clear()
        self.document = document
        self._mask_count = int(np.count_nonzero(document.mask)) if document else 0
        self.document_changed.emit()
        self.modified_changed.emit(self.is_modified)

    @property
    def is_modified(self) -> bool:
        return bool(self.document and self.document.is_modified)

    @property
    def coverage(self) -> float:
        if self.document is None:
            return 0.0
        return self._mask_count / self.document.mask.size

    @property
    def mask_is_empty(self) -> bool:
        return self._mask_count == 0

    @property
    def can_edit_mask(self) -> bool:
        return self.document is not None and not self.locked

    # --------------------------------------------------------------------- brush

    def begin_stroke(self, x: float, y: float, diameter: float, erase: bool) -> None:
        if not self.can_edit_mask:
            return
        self._stroke = BrushStroke(self.document.mask, diameter, 0 if erase else masks.FILL)
        self._stroke_text = "Eraser stroke" if erase else "Brush stroke"
        self.continue_stroke(x, y)

    def continue_stroke(self, x: float, y: float) -> None:
        if self._stroke is None:
            return
        box = self._stroke.add_point(x, y)
        if box is not None:
            self.mask_changed.emit(box)

    def end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        patch = stroke.finish()
        if patch is None:
            return
        # The stroke is already on the mask, so count it here; the command's first redo
        # rewrites the same pixels and changes no count.
        self._mask_count += int(np.count_nonzero(patch.after)) - int(np.count_nonzero(patch.before))
        self.undo_stack.push(MaskPatchCommand(self, self._stroke_text, patch))

    # ----------------------------------------------------------- mask operations

    def grow_mask(self, pixels: int) -> None:
        self._replace_mask(f"Grow mask {pixels} px", lambda m: masks.grow(m, pixels))

    def shrink_mask(self, pixels: int) -> None:
        self._replace_mask(f"Shrink mask {pixels} px", lambda m: masks.shrink(m, pixels))

    def clear_mask(self) -> None:
        self._replace_mask("Clear mask", np.zeros_like)

    def invert_mask(self) -> None:
        self._replace_mask("Invert mask", masks.invert)

    def load_mask(self, path: str | os.PathLike) -> None:
        """Replace the mask by a mask file; raises MaskError/ImageReadError with a sentence."""
        if self.document is None:
            return
        loaded = masks.load_mask(path, self.document.size)
        self._replace_mask("Load mask", lambda _: loaded)

    def _replace_mask(self, text: str, operation) -> None:
        if not self.can_edit_mask:
            return
        current = self.document.mask
        new_mask = operation(current)
        box = mask_bounds((current != new_mask).view(np.uint8))
        if box is None:
            return
        patch = MaskPatch(box, current[box.slices].copy(), np.ascontiguousarray(new_mask[box.slices]))
        self.undo_stack.push(MaskPatchCommand(self, text, patch))

    def write_mask_patch(self, box: Box, values: np.ndarray) -> None:
        """Undo/redo entry point: put ``values`` into the mask inside ``box``."""
        mask_now = self.document.mask[box.slices]
        self._mask_count += int(np.count_nonzero(values)) - int(np.count_nonzero(mask_now))
        self.document.write_mask(box, values)
        self.mask_changed.emit(box)

    # --------------------------------------------------------------------- fills

    def set_pending(self, result: FillResult, mask: np.ndarray) -> None:
        self.document.set_pending(result, mask)
        self.pending_changed.emit()

    def accept_pending(self) -> None:
        if self.document is None or self.document.pending is None:
            return
        label = self.document.pending.result.method_label
        patch = self.document.take_pending_patch()
        self.pending_changed.emit()
        if patch is not None:
            self.undo_stack.push(AcceptFillCommand(self, f"Fill ({label})", patch))

    def discard_pending(self) -> None:
        if self.document is None or self.document.pending is None:
            return
        self.document.pending = None
        self.pending_changed.emit()

    def apply_fill_patch(self, patch: FillPatch) -> None:
        self._mask_count -= int(np.count_nonzero(self.document.mask[patch.box.slices]))
        self.document.apply_fill(patch)
        self._after_fill_change(patch.box)

    def revert_fill_patch(self, patch: FillPatch) -> None:
        self._mask_count += int(np.count_nonzero(patch.mask_before)) - int(
            np.count_nonzero(self.document.mask[patch.box.slices]))
        self.document.revert_fill(patch)
        self._after_fill_change(patch.box)

    def _after_fill_change(self, box: Box) -> None:
        self.pixels_changed.emit(box)
        self.mask_changed.emit(box)
        self.modified_changed.emit(self.is_modified)

    # --------------------------------------------------------------------- files

    def save(self, path: str | os.PathLike):
        written = self.document.save(path)
        self.modified_changed.emit(self.is_modified)
        return written
