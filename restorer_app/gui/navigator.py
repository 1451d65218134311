"""The navigator: an overview of the whole photo in the canvas's corner, with the part in view
outlined; a click or drag in it moves the view there. Shown only while the photo does not fit
in the view (zoomed in on a large scan), and while View ▸ Show Navigator is on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from .canvas import CanvasView

SIDE = 180  # screen pixels: the longer side of the overview
_MARGIN = 12  # from the view's corner
_FRAME = 4  # around the overview


class Navigator(QWidget):
    def __init__(self, canvas: "CanvasView") -> None:
        super().__init__(canvas.viewport())
        self._canvas = canvas
        self._enabled = True
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole photo; the rectangle is the part in view. Click or drag to move the view.")
        self.hide()

    # -------------------------------------------------------------------- state

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        self.follow()

    @property
    def wanted(self) -> bool:
        """Whether it is shown now: on, a photo, and not all of the photo in view."""
        canvas = self._canvas
        if not self._enabled or not canvas.has_image:
            return False
        width, height = canvas.image_size
        seen = canvas.visible_photo()
        return seen.width() < width - 0.5 or seen.height() < height - 0.5

    def follow(self) -> None:
        """Show, hide, resize and repaint after the view or the photo changed."""
        if not self.wanted:
            self.hide()
            return
        scale = self._scale()
        width, height = self._canvas.image_size
        self.resize(round(width * scale) + 2 * _FRAME, round(height * scale) + 2 * _FRAME)
        viewport = self._canvas.viewport()
        self.move(viewport.width() - self.width() - _MARGIN, viewport.height() - self.height() - _MARGIN)
        self.show()
        self.raise_()
        self.update()

    def _scale(self) -> float:
        width, height = self._canvas.image_size
        return SIDE / max(width, height, 1)

    # ----------------------------------------------------------------- drawing

    def paintEvent(self, event: QPaintEvent) -> None:
        display = self._canvas.after_display
        if display is None:
            return
        scale = self._scale()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 22, 220))
        width, height = display.size
        target = QRectF(_FRAME, _FRAME, width * scale, height * scale)
        image, factor = display.level_for(scale)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image, QRectF(0, 0, width / factor, height / factor))
        seen = self._canvas.visible_photo()
        frame = QRectF(_FRAME + seen.left() * scale, _FRAME + seen.top() * scale,
                       seen.width() * scale, seen.height() * scale)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, line in ((QColor(0, 0, 0, 200), 3.0), (QColor(255, 255, 255, 240), 1.2)):
            painter.setPen(QPen(colour, line))
            painter.drawRect(frame)
        painter.end()

    # ------------------------------------------------------------------ events

    def photo_point(self, point: QPointF) -> QPointF:
        """The photo pixel under ``point`` (this widget's coordinates)."""
        scale = self._scale()
        width, height = self._canvas.image_size
        x = min(max((point.x() - _FRAME) / scale, 0.0), width)
        y = min(max((point.y() - _FRAME) / scale, 0.0), height)
        return QPointF(x, y)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._canvas.centerOn(self.photo_point(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._canvas.centerOn(self.photo_point(event.position()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()
