"""The History panel: every accepted step with its method, model, description, seed and pixel
count; a tick shows or hides each on the canvas, and the selected one can be removed.

The widget only lists and reports; HistoryFlow decides what selecting, hiding and removing do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from .history import StepRow

#: The tree stays narrow enough for the side dock; the selected step's method, model and
#: description are spelled out under it.
COLUMNS = ("Step", "Seed", "Pixels")
_UNDONE = QColor(140, 140, 145)


class HistoryPanel(QWidget):
    #: The selected step's row, or None when nothing is selected.
    selected = Signal(object)
    #: The ids of the steps whose tick was taken off (shown without them).
    hidden_changed = Signal(object)
    #: The selected step's row, to take out.
    remove_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay with the canvas (variations)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.placeholder = QLabel("Accepted fills, heals and restores are listed here.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setObjectName("hint")
        self.hidden_note = QLabel()
        self.hidden_note.setWordWrap(True)
        self.hidden_note.setObjectName("hint")
        self.show_all_button = QPushButton("Show All")
        self.show_all_button.setToolTip("Tick every step again, so the canvas shows the photo as it is")
        self.remove_button = QPushButton("Remove Step")
        self.remove_button.setToolTip("Take the selected step out of the photo and its record; "
                                      "the later steps stay as they are when they did not use its pixels")
        for button in (self.show_all_button, self.remove_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all_button)
        buttons.addWidget(self.remove_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self.placeholder)
        column.addWidget(self.tree, 1)
        column.addWidget(self.details)
        column.addWidget(self.hidden_note)
        column.addLayout(buttons)

        self._rows: list[StepRow] = []
        self._filling = False  # while the panel itself changes items, their signals are not the user's
        self._editable = True
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.show_all_button.clicked.connect(self.show_all)
        self.remove_button.clicked.connect(self._on_remove)
        self.set_rows([])

    # -------------------------------------------------------------------- rows

    def set_rows(self, rows: list[StepRow], hidden: set[int] = frozenset()) -> None:
        """List ``rows`` (oldest first); steps in ``hidden`` are unticked. The selection stays on
        the same step when it is still listed."""
        chosen = self.selected_row()
        self._filling = True
        self.tree.clear()
        self._rows = list(rows)
        undone_font = QFont(self.tree.font())
        undone_font.setItalic(True)
        for number, row in enumerate(rows, start=1):
            item = QTreeWidgetItem([f"{number}. {row.title}", row.seed, f"{row.pixels:,}"])
            item.setData(0, Qt.ItemDataRole.UserRole, row.patch.id)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column in range(len(COLUMNS)):
                item.setToolTip(column, row.tooltip)
            if row.applied:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Unchecked if row.patch.id in hidden else Qt.CheckState.Checked)
            else:  # undone: listed (Redo brings it back) but nothing to show, hide or remove
                for column in range(len(COLUMNS)):
                    item.setForeground(column, QBrush(_UNDONE))
                    item.setFont(column, undone_font)
            self.tree.addTopLevelItem(item)
            if chosen is not None and row.patch.id == chosen.patch.id:
                item.setSelected(True)
        self._filling = False
        self.placeholder.setVisible(not rows)
        self._update_buttons()
        if chosen is not None and self.selected_row() is None:
            self.selected.emit(None)

    @property
    def rows(self) -> list[StepRow]:
        return list(self._rows)

    def selected_row(self) -> StepRow | None:
        items = self.tree.selectedItems() if self._rows else []
        if not items:
            return None
        return self._rows[self.tree.indexOfTopLevelItem(items[0])]

    def select(self, index: int | None) -> None:
        """Select the ``index``-th step (from 0), or nothing."""
        self.tree.clearSelection()
        if index is not None:
            self.tree.topLevelItem(index).setSelected(True)

    def hidden(self) -> set[int]:
        ids = set()
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if self._rows[index].applied and item.checkState(0) == Qt.CheckState.Unchecked:
                ids.add(self._rows[index].patch.id)
        return ids

    def set_shown(self, index: int, shown: bool) -> None:
        """Tick (show) or untick (hide) the ``index``-th step, as a click on its box does."""
        self.tree.topLevelItem(index).setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def show_all(self) -> None:
        if not self.hidden():
            return
        self._filling = True
        for index in range(self.tree.topLevelItemCount()):
            if self._rows[index].applied:
                self.tree.topLevelItem(index).setCheckState(0, Qt.CheckState.Checked)
        self._filling = False
        self._update_buttons()
        self.hidden_changed.emit(set())

    def set_editable(self, editable: bool) -> None:
        """Removing changes the photo: only while nothing runs or is under review."""
        self._editable = editable
        self._update_buttons()

    # ----------------------------------------------------------------- signals

    def _on_selection(self) -> None:
        if not self._filling:
            self._update_buttons()
            self.selected.emit(self.selected_row())

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if not self._filling and column == 0:
            self._update_buttons()
            self.hidden_changed.emit(self.hidden())

    def _on_remove(self) -> None:
        row = self.selected_row()
        if row is not None and row.applied:
            self.remove_requested.emit(row)

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.details.setText(row.tooltip if row is not None else "")
        self.details.setVisible(row is not None)
        self.remove_button.setEnabled(row is not None and row.applied and self._editable)
        hidden = len(self.hidden())
        self.show_all_button.setEnabled(bool(hidden))
        self.hidden_note.setText(f"The canvas shows the photo without {hidden} step{'s' if hidden > 1 else ''}: "
                                 "hidden steps are still in the photo, and are saved." if hidden else "")
        self.hidden_note.setVisible(bool(hidden))
