"""Undo commands. Each stores only the box it changed, never a whole photo or mask."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from restorer_app.engine.project import DamageProposal, FillStep

from .brush_stroke import MaskPatch
from .document import FillPatch, fill_step

if TYPE_CHECKING:
    from .editor import Editor


#: What a MaskPatchCommand changes: the mask, or the area kept out of copying (source control).
MASK_LAYER, NO_SOURCE_LAYER = "mask", "no_source"


class MaskPatchCommand(QUndoCommand):
    """A brush stroke, or a whole-mask operation (clear, invert, grow, shrink, load),
    reduced to the box it changed. The edit is already on the mask when pushed; the
    first redo() therefore rewrites the same values, which is harmless. An eraser stroke over
    detected damage also carries what it excluded from the proposal. On ``layer``
    :data:`NO_SOURCE_LAYER` the patch is of the area kept out of copying."""

    def __init__(self, editor: "Editor", text: str, patch: MaskPatch | None,
                 excluded: MaskPatch | None = None, layer: str = MASK_LAYER) -> None:
        super().__init__(text)
        self._editor = editor
        self.patch = patch
        self.excluded = excluded
        self._write = editor.write_no_source_patch if layer == NO_SOURCE_LAYER else editor.write_mask_patch

    def redo(self) -> None:
        if self.patch is not None:
            self._write(self.patch.box, self.patch.after)
        if self.excluded is not None:
            self._editor.write_excluded_patch(self.excluded.box, self.excluded.after)

    def undo(self) -> None:
        if self.patch is not None:
            self._write(self.patch.box, self.patch.before)
        if self.excluded is not None:
            self._editor.write_excluded_patch(self.excluded.box, self.excluded.before)


class ProposalCommand(QUndoCommand):
    """Detected damage shown (``after``) instead of what was (``before``); None is no proposal.
    Both are kept as they were, so undo and redo give back exactly those states."""

    def __init__(self, editor: "Editor", text: str, before: DamageProposal | None,
                 after: DamageProposal | None) -> None:
        super().__init__(text)
        self._editor = editor
        self._before = before.snapshot() if before is not None else None
        self._after = after.snapshot() if after is not None else None

    def redo(self) -> None:
        self._editor.write_proposal(self._after.snapshot() if self._after is not None else None)

    def undo(self) -> None:
        self._editor.write_proposal(self._before.snapshot() if self._before is not None else None)


class ThresholdCommand(QUndoCommand):
    """The sensitivity slider moved: one command per release (or per key press), not per tick."""

    def __init__(self, editor: "Editor", old: float, new: float) -> None:
        super().__init__(f"Sensitivity {round(100 * (1 - new))} %")
        self._editor = editor
        self.old, self.new = old, new

    def redo(self) -> None:
        self._editor.write_threshold(self.new)

    def undo(self) -> None:
        self._editor.write_threshold(self.old)


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


class RemoveStepCommand(QUndoCommand):
    """An accepted step taken out of the history (the later steps did not read its pixels,
    so they stay exactly as they are); undo puts it back in its place."""

    def __init__(self, editor: "Editor", text: str, patch: FillPatch) -> None:
        super().__init__(text)
        self._editor = editor
        self.patch = patch
        self._index = 0

    def redo(self) -> None:
        self._index = self._editor.take_out_patch(self.patch)

    def undo(self) -> None:
        self._editor.put_back_patch(self.patch, self._index)
