"""The graphics items the canvas stacks: photo layers, mask overlay, brush cursor, divider."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from restorer_app.engine.regions import Box

from .display import mask_overlay_image


def box_rect(box: Box) -> QRectF:
    return QRectF(box.x0, box.y0, box.width, box.height)


class RasterItem(QGraphicsItem):
    """Draws a QImage at the origin; smooth when zoomed out, crisp pixels when zoomed in."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._owner: object = None
        self.smooth = True
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    @property
    def image(self) -> QImage:
        return self._image

    def set_image(self, image: QImage, owner: object = None) -> None:
        """Show ``image``; ``owner`` keeps alive the memory a QImage view points into."""
        self.prepareGeometryChange()
        self._image = image
        self._owner = owner
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._image.width(), self._image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._image.isNull():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        painter.drawImage(QPointF(0, 0), self._image)


class MaskOverlayItem(QGraphicsItem):
    """The mask as translucent colour. It views the mask's memory, so a stroke only has to
    call :meth:`update_box`; only the exposed part is converted for drawing."""

    def __init__(self, colour: QColor) -> None:
        super().__init__()
        self._colour = colour
        self._mask: np.ndarray | None = None
        self._image = QImage()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_mask(self, mask: np.ndarray | None) -> None:
        self.prepareGeometryChange()
        self._mask = mask  # keeps the memory the QImage views alive
        self._image = mask_overlay_image(mask, self._colour) if mask is not None else QImage()
        self.update()

    def update_box(self, box: Box) -> None:
        self.update(box_rect(box))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._image.width(), self._image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._image.isNull():
            return
        exposed = option.exposedRect.toAlignedRect().intersected(QRect(0, 0, self._image.width(), self._image.height()))
        if exposed.isEmpty():
            return
        # Copying the exposed part first keeps the indexed->ARGB conversion proportional
        # to what is on screen, not to the whole scan.
        painter.drawImage(exposed.topLeft(), self._image.copy(exposed))


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
        self._zoom = 1.0
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_height(self, height: float) -> None:
        self.prepareGeometryChange()
        self._height = float(height)

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
        centre = QPointF(0, self._height / 2)
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
