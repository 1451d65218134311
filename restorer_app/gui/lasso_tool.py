"""The lasso on the canvas: drag for a freehand outline (closed when the button is let go, as
Photoshop's Lasso), or click corner after corner for a polygon (closed by a double-click,
Enter, or a click on the first corner; Backspace takes the last corner back, Esc drops it).
Alt held when the outline closes takes the area out of the mask instead of adding it. The
outline is drawn as it grows, with a line from the last corner to the pointer.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

#: Screen pixels: a click this close to the first corner closes the polygon; a press that
#: moves less than this is a click, not the start of a freehand outline.
CLOSE_DISTANCE = 8.0


class LassoTool(QObject):
    #: The closed outline (a list of (x, y) in photo pixels) and whether to take it out of the mask.
    closed = Signal(object, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.item = QGraphicsPathItem()
        pen = QPen(QColor(255, 255, 255, 235), 1.2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.item.setPen(pen)
        self.item.setBrush(QColor(255, 45, 85, 50))
        self.item.hide()
        self._points: list[QPointF] = []
        self._pointer: QPointF | None = None
        self._pressed_at: QPointF | None = None  # viewport position of the press, while held
        self._freehand = False

    @property
    def active(self) -> bool:
        """An outline is being drawn."""
        return bool(self._points)

    @property
    def points(self) -> list[tuple[float, float]]:
        return [(p.x(), p.y()) for p in self._points]

    # ------------------------------------------------------------- from the canvas

    def press(self, point: QPointF, screen: QPointF, zoom: float, modifiers) -> None:
        if self._points and self._near_first(point, zoom):
            self._close(modifiers)
            return
        self._pressed_at = screen
        self._freehand = not self._points  # a drag from here is freehand; a click adds a corner
        self._points.append(point)
        self._draw()

    def move(self, point: QPointF, screen: QPointF) -> None:
        self._pointer = point
        if self._pressed_at is not None and self._freehand:
            moved = screen - self._pressed_at
            if len(self._points) > 1 or abs(moved.x()) + abs(moved.y()) >= CLOSE_DISTANCE:
                self._points.append(point)
        self._draw()

    def release(self, modifiers) -> None:
        self._pressed_at = None
        if self._freehand and len(self._points) > 2:
            self._close(modifiers)
        self._freehand = False

    def double_click(self, modifiers) -> None:
        if len(self._points) > 2:
            self._close(modifiers)

    def key(self, key: int, modifiers) -> bool:
        """Enter closes, Backspace takes back a corner, Esc drops the outline; True if used."""
        if not self._points:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._close(modifiers) if len(self._points) > 2 else self.cancel()
        elif key == Qt.Key.Key_Backspace:
            self._points.pop()
            self._draw()
        elif key == Qt.Key.Key_Escape:
            self.cancel()
        else:
            return False
        return True

    def cancel(self) -> None:
        self._points.clear()
        self._pressed_at = None
        self._freehand = False
        self._draw()

    # ----------------------------------------------------------------- helpers

    def _near_first(self, point: QPointF, zoom: float) -> bool:
        if len(self._points) < 3:
            return False
        delta = (point - self._points[0]) * zoom
        return (delta.x() ** 2 + delta.y() ** 2) ** 0.5 <= CLOSE_DISTANCE

    def _close(self, modifiers) -> None:
        points = self.points
        subtract = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self.cancel()
        self.closed.emit(points, subtract)

    def _draw(self) -> None:
        if not self._points:
            self.item.hide()
            return
        path = QPainterPath(self._points[0])
        for point in self._points[1:]:
            path.lineTo(point)
        if self._pointer is not None and not (self._pressed_at is not None and self._freehand):
            path.lineTo(self._pointer)  # where the next corner would go
        self.item.setPath(path)
        self.item.show()
