"""The graphics items the canvas stacks: photo layers, mask overlay, brush cursor, divider."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from restorer_app.engine.regions import Box

from .display import DisplayBuffer, MaskLevels


def box_rect(box: Box) -> QRectF:
    return QRectF(box.x0, box.y0, box.width, box.height)


class RasterItem(QGraphicsItem):
    """Draws a :class:`DisplayBuffer` at the origin: only the exposed part, from the pyramid
    level that matches the zoom; smooth when zoomed out, crisp pixels when zoomed in."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._display: DisplayBuffer | None = None
        self.smooth = True
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    @property
    def display(self) -> DisplayBuffer | None:
        return self._display

    def set_display(self, display: DisplayBuffer | None) -> None:
        self.prepareGeometryChange()
        self._display = display
        self.update()

    def boundingRect(self) -> QRectF:
        width, height = self._display.size if self._display is not None else (0, 0)
        return QRectF(0, 0, width, height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._display is None:
            return
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        transform = painter.worldTransform()
        scale = abs(transform.determinant()) ** 0.5  # screen pixels per photo pixel
        image, factor = self._display.level_for(scale)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        # Whole pixels of the chosen level that cover the exposed area.
        x0, y0 = int(exposed.left() // factor), int(exposed.top() // factor)
        x1 = min(-int(-exposed.right() // factor), image.width())
        y1 = min(-int(-exposed.bottom() // factor), image.height())
        source = QRectF(x0, y0, x1 - x0, y1 - y0)
        target = QRectF(x0 * factor, y0 * factor, (x1 - x0) * factor, (y1 - y0) * factor)
        painter.drawImage(target, image, source)


class MaskOverlayItem(QGraphicsItem):
    """The mask as translucent colour. It views the mask's memory, so a stroke only has to
    call :meth:`update_box`; only the exposed part is converted for drawing, from the
    pyramid level that matches the zoom."""

    def __init__(self, colour: QColor) -> None:
        super().__init__()
        self._colour = colour
        self._levels: MaskLevels | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_mask(self, mask: np.ndarray | None) -> None:
        self.prepareGeometryChange()
        self._levels = MaskLevels(mask, self._colour) if mask is not None else None
        self.update()

    @property
    def mask(self) -> np.ndarray | None:
        return self._levels.mask if self._levels is not None else None

    @property
    def colour(self) -> QColor:
        return QColor(self._colour)

    def set_colour(self, colour: QColor) -> None:
        self._colour = QColor(colour)
        if self._levels is not None:
            self._levels.set_colour(self._colour)
        self.update()

    def update_box(self, box: Box) -> None:
        if self._levels is not None:
            self._levels.refresh(box)
        self.update(box_rect(box))

    def boundingRect(self) -> QRectF:
        if self._levels is None:
            return QRectF()
        height, width = self._levels.mask.shape
        return QRectF(0, 0, width, height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._levels is None:
            return
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        scale = abs(painter.worldTransform().determinant()) ** 0.5
        image, factor = self._levels.level_for(scale)
        x0, y0 = int(exposed.left() // factor), int(exposed.top() // factor)
        x1 = min(-int(-exposed.right() // factor), image.width())
        y1 = min(-int(-exposed.bottom() // factor), image.height())
        if x1 <= x0 or y1 <= y0:
            return
        # Copying the exposed part first keeps the indexed->ARGB conversion proportional
        # to what is on screen, not to the whole scan.
        part = image.copy(QRect(x0, y0, x1 - x0, y1 - y0))
        painter.drawImage(QRectF(x0 * factor, y0 * factor, (x1 - x0) * factor, (y1 - y0) * factor), part)


class BrushCursorItem(QGraphicsItem):
    """The brush outline at its true size: a light ring inside a dark one, visible on any photo."""

    def __init__(self) -> None:
        super().__init__()
        self._diameter = 20.0
        self._screen_margin = 1.0  # scene units covering the cosmetic pens; set from the zoom
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_diameter(self, diameter: float) -> None:
        self.prepareGeometryChange()
        self._diameter = float(diameter)

    def set_zoom(self, zoom: float) -> None:
        self.prepareGeometryChange()
        self._screen_margin = 3.0 / max(zoom, 1e-6)

    def boundingRect(self) -> QRectF:
        r = self._diameter / 2 + self._screen_margin
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self._diameter / 2
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width in ((QColor(0, 0, 0, 170), 3.0), (QColor(255, 255, 255, 230), 1.2)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(QPointF(0, 0), r, r)


class SplitDividerItem(QGraphicsItem):
    """The vertical line between 'before' (left) and 'after' (right) in split view."""

    def __init__(self) -> None:
        super().__init__()
        self._height = 0.0
        self._handle_y: float | None = None
        self._zoom = 1.0
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_height(self, height: float) -> None:
        self.prepareGeometryChange()
        self._height = float(height)

    def set_handle_y(self, y: float | None) -> None:
        """Where the handle sits (photo rows; None: the middle), so it stays in view when zoomed in."""
        if y != self._handle_y:
            self._handle_y = y
            self.update()

    def set_zoom(self, zoom: float) -> None:
        self.prepareGeometryChange()
        self._zoom = max(zoom, 1e-6)

    def _handle_radius(self) -> float:
        return 11.0 / self._zoom  # constant size on screen

    def boundingRect(self) -> QRectF:
        r = self._handle_radius() + 2.0 / self._zoom
        return QRectF(-r, -1, 2 * r, self._height + 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        shadow = QPen(QColor(0, 0, 0, 140), 3.0)
        shadow.setCosmetic(True)
        line = QPen(QColor(255, 255, 255, 235), 1.5)
        line.setCosmetic(True)
        for pen in (shadow, line):
            painter.setPen(pen)
            painter.drawLine(QPointF(0, 0), QPointF(0, self._height))
        r = self._handle_radius()
        centre = QPointF(0, self._height / 2 if self._handle_y is None else self._handle_y)
        painter.setPen(shadow)
        painter.setBrush(QBrush(QColor(245, 245, 245)))
        painter.drawEllipse(centre, r, r)
        # Two small arrows say "drag sideways".
        a = r * 0.45
        arrows = QPainterPath()
        for sign in (-1, 1):
            tip = QPointF(centre.x() + sign * r * 0.7, centre.y())
            arrows.moveTo(tip)
            arrows.lineTo(tip.x() - sign * a, tip.y() - a)
            arrows.lineTo(tip.x() - sign * a, tip.y() + a)
            arrows.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(40, 40, 40)))
        painter.drawPath(arrows)


def draw_photo_backdrop(painter: QPainter, rect: QRectF, *, has_alpha: bool) -> None:
    """Under the photo (in device pixels): a soft shadow, and a checkerboard where it may be transparent."""
    # A soft edge lifts the photo off the background without a hard frame.
    for grow, alpha in ((3, 30), (2, 50), (1, 90)):
        painter.fillRect(rect.adjusted(-grow, -grow, grow, grow), QColor(0, 0, 0, alpha))
    if has_alpha:  # transparency shows as the usual checkerboard
        painter.fillRect(rect, _checkerboard())


def draw_tag(painter: QPainter, anchor: QPointF, text: str, *, left: bool) -> None:
    """A small rounded label ("Before", "After") beside ``anchor``, on its right when ``left``."""
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text) + 16
    height = metrics.height() + 6
    x = anchor.x() if left else anchor.x() - width
    tag = QRectF(x, anchor.y(), width, height)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 160))
    painter.drawRoundedRect(tag, 4, 4)
    painter.setPen(QColor(240, 240, 240))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)


def _checkerboard() -> QBrush:
    tile = QImage(16, 16, QImage.Format.Format_RGB32)
    tile.fill(QColor(200, 200, 200))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(150, 150, 150))
    painter.fillRect(8, 8, 8, 8, QColor(150, 150, 150))
    painter.end()
    return QBrush(tile)
