"""The strip of variations of one fill: a preview of the hole per seed, to pick from.

Each finished variation adds a thumbnail of the filled area (the mask's box with a little
context, at most 96 px) labelled with its number and seed. Arrow keys or clicks choose one;
``chosen(number)`` tells the window to put that fill under review. Thumbnails are made from
the result's pixels once, on the GUI thread (a crop and a resize: milliseconds).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from restorer_app.engine.regions import Box

THUMB = 96


def thumbnail(pixels: np.ndarray, box: Box) -> QPixmap:
    """The ``box`` of 8- or 16-bit ``pixels`` (gray, RGB, with or without alpha) as a pixmap of
    at most :data:`THUMB` px on its longer side."""
    crop = pixels[box.slices]
    if crop.dtype == np.uint16:
        crop = (crop >> 8).astype(np.uint8)
    if crop.shape[2] in (1, 2):
        crop = np.repeat(crop[:, :, :1], 3, axis=2)
    crop = np.ascontiguousarray(crop[:, :, :3])
    h, w = crop.shape[:2]
    image = QImage(crop.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


class VariationStrip(QWidget):
    """Thumbnails of the variations made so far; one is chosen at a time."""

    chosen = Signal(int)  # the variation's number, from 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.title = QLabel()
        self.title.setObjectName("hint")
        self.title.setWordWrap(True)
        column.addWidget(self.title)
        self.list = QListWidget()
        self.list.setObjectName("variationStrip")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setFixedHeight(2 * (THUMB + 34))
        self.list.setToolTip("Pick a variation: click it, or use the arrow keys. Enter accepts the one shown.")
        self.list.currentRowChanged.connect(self._on_row)
        column.addWidget(self.list)
        self._box: Box | None = None
        self._expected = 0
        self.setVisible(False)

    def begin(self, count: int, box: Box | None) -> None:
        """A new fill with ``count`` variations of the area ``box``; hidden for one."""
        self.list.clear()
        self._box, self._expected = box, count
        self._update_title()
        self.setVisible(count > 1)

    def add(self, number: int, seed: int, pixels: np.ndarray) -> None:
        """Variation ``number`` (its fill's ``pixels``) has arrived."""
        if self._box is None:
            return
        item = QListWidgetItem(QIcon(thumbnail(pixels, self._box)), f"{number} · seed {seed}")
        item.setData(Qt.ItemDataRole.UserRole, number)
        item.setToolTip(f"Variation {number} (seed {seed})")
        self.list.addItem(item)
        if self.list.count() == 1:
            with QSignalBlocker(self.list):
                self.list.setCurrentRow(0)
        self._update_title()

    @property
    def count(self) -> int:
        return self.list.count()

    @property
    def current(self) -> int:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else 0

    def select(self, number: int) -> bool:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == number:
                self.list.setCurrentRow(row)
                return True
        return False

    def clear(self) -> None:
        self.begin(0, None)

    def _update_title(self) -> None:
        made = self.list.count()
        waiting = f" (making {made + 1} of {self._expected}…)" if made < self._expected else ""
        self.title.setText(f"Variations{waiting}: ← → to compare, Enter to accept the one shown.")

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.chosen.emit(int(self.list.item(row).data(Qt.ItemDataRole.UserRole)))
