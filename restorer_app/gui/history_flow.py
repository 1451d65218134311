"""The History panel at work: it lists the undo stack's accepted steps; selecting one tints
its pixels green and scrolls to them; unticking steps shows the photo without them (a view:
the document, its saves and projects keep every step); Remove Step takes one out as an undo
step when no later step read its pixels, and otherwise says which did and offers to undo
back to before it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar, QWidget

from . import dialogs
from .canvas import CanvasView
from .canvas_layers import CanvasLayers
from .editor import Editor
from .history import StepRow, highlight_mask, photo_without
from .history_panel import HistoryPanel
from .undo_commands import AcceptFillCommand


class HistoryFlow(QObject):
    def __init__(self, editor: Editor, panel: HistoryPanel, layers: CanvasLayers, canvas: CanvasView,
                 status: QStatusBar, show_layers, parent: QWidget) -> None:
        super().__init__(parent)
        self._editor, self._panel, self._layers, self._canvas = editor, panel, layers, canvas
        self._status, self._show_layers, self._window = status, show_layers, parent
        self._hidden: set[int] = set()
        #: The steps as last listed, so that a brush stroke (which moves the undo stack too)
        #: neither rebuilds the view without the hidden steps nor scrolls to the selected one.
        self._listed: tuple = ()
        panel.selected.connect(self._on_selected)
        panel.hidden_changed.connect(self._on_hidden_changed)
        panel.remove_requested.connect(self.remove)
        editor.undo_stack.indexChanged.connect(self._on_index_changed)
        editor.document_changed.connect(self._on_document_changed)

    @property
    def hidden(self) -> set[int]:
        return set(self._hidden)

    def refresh(self) -> None:
        """List the steps again (the undo stack moved); hidden steps no longer applied are shown
        again, and the view without the others is made again from the photo as it is now."""
        document = self._editor.document
        rows = self._editor.history() if document is not None else []
        listed = tuple((row.patch.id, row.applied) for row in rows)
        if listed == self._listed:
            return
        self._listed = listed
        applied = {row.patch.id for row in rows if row.applied}
        self._hidden &= applied
        self._panel.set_rows(rows, self._hidden)
        self._show_without()
        self._highlight(self._panel.selected_row())

    def set_editable(self, editable: bool) -> None:
        self._panel.set_editable(editable)

    def remove(self, row: StepRow) -> bool:
        """Take ``row``'s step out; True when it was (or everything back to it was undone)."""
        editor = self._editor
        if editor.document is None or not editor.can_edit_mask:
            return False
        blockers = editor.removal_blockers(row.patch)
        if not blockers:
            last = editor.document.applied_fills[-1].id == row.patch.id
            removed = editor.remove_step(row.patch, row.title)
            if removed:
                unchanged = "" if last else "; the later steps are unchanged"
                self._status.showMessage(f"Removed {row.title}{unchanged}. Ctrl+Z puts it back.", 8000)
            return removed
        names = {r.patch.id: f"{number}. {r.title}" for number, r in enumerate(editor.history(), start=1)}
        later = ", ".join(names[p.id] for p in blockers[:4]) + (" and others" if len(blockers) > 4 else "")
        steps_back = self._steps_back_to(row)
        sentence = (f"{names[row.patch.id]} cannot be taken out on its own: {later} "
                    f"{'was' if len(blockers) == 1 else 'were'} made with its pixels around "
                    f"{'it' if len(blockers) == 1 else 'them'}, and would come out differently without it.\n\n"
                    f"Undo back to before it? That undoes everything since, {steps_back} undo "
                    f"step{'s' if steps_back > 1 else ''} (Redo brings them back).")
        if dialogs.ask_undo_back(self._window, sentence):
            self._undo_back_to(row)
            return True
        self._status.showMessage(f"{row.title} was not removed: {later} used its pixels.", 8000)
        return False

    # ----------------------------------------------------------------- helpers

    def _command_index(self, row: StepRow) -> int:
        stack = self._editor.undo_stack
        for index in range(stack.count()):
            command = stack.command(index)
            if isinstance(command, AcceptFillCommand) and command.patch.id == row.patch.id:
                return index
        raise LookupError(row.title)

    def _steps_back_to(self, row: StepRow) -> int:
        return self._editor.undo_stack.index() - self._command_index(row)

    def _undo_back_to(self, row: StepRow) -> None:
        self._editor.undo_stack.setIndex(self._command_index(row))

    def _on_index_changed(self, _index: int) -> None:
        # A closing window's undo stack clears itself while it is being deleted.
        if shiboken6.isValid(self._editor.undo_stack):
            self.refresh()

    def _on_document_changed(self) -> None:
        self._hidden.clear()
        self._listed = ()
        self._layers.set_without(None)
        self._canvas.set_highlight(None)
        self.refresh()

    def _on_selected(self, row: StepRow | None) -> None:
        """The user chose a step: tint its pixels and bring them into view."""
        if self._highlight(row):
            self._canvas.show_box(row.patch.box)

    def _highlight(self, row: StepRow | None) -> bool:
        document = self._editor.document
        if row is None or document is None or not row.applied:
            self._canvas.set_highlight(None)
            return False
        self._canvas.set_highlight(highlight_mask(row.patch, document.size))
        return True

    def _on_hidden_changed(self, hidden: set[int]) -> None:
        self._hidden = set(hidden)
        self._show_without()
        if self._hidden:
            self._status.showMessage("Showing the photo without the unticked steps; they are still applied and saved. "
                                     "Show All brings them back into view.", 8000)

    def _show_without(self) -> None:
        document = self._editor.document
        if document is None or not self._hidden:
            changed = self._layers.hiding
            self._layers.set_without(None)
        else:
            self._layers.set_without(photo_without(document.image.pixels, document.applied_fills, self._hidden))
            changed = True
        if changed:
            self._show_layers()
