"""Undo commands. Each stores only the box it changed, never a whole photo or mask."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from restorer_app.engine.project import FillStep

from .brush_stroke import MaskPatch
from .document import FillPatch, fill_step

if TYPE_CHECKING:
    from .editor import Editor


class MaskPatchCommand(QUndoCommand):
    """A brush stroke, or a whole-mask operation (clear, invert, grow, shrink, load),
    reduced to the box it changed. The edit is already on the mask when pushed; the
    first redo() therefore rewrites the same values, which is harmless."""

    def __init__(self, editor: "Editor", text: str, patch: MaskPatch) -> None:
        super().__init__(text)
        self._editor = editor
        self.patch = patch

    def redo(self) -> None:
        self._editor.write_mask_patch(self.patch.box, self.patch.after)

    def undo(self) -> None:
        self._editor.write_mask_patch(self.patch.box, self.patch.before)


class AcceptFillCommand(QUndoCommand):
    """An accepted fill: the changed box's old and new pixels and the mask before."""

    def __init__(self, editor: "Editor", text: str, patch: FillPatch) -> None:
        super().__init__(text)
        self._editor = editor
        self.patch = patch

    def redo(self) -> None:
        self._editor.apply_fill_patch(self.patch)

    def undo(self) -> None:
        self._editor.revert_fill_patch(self.patch)

    @cached_property
    def step(self) -> FillStep:
        """The fill as a project stores it (built once per command)."""
        return fill_step(self.patch)
