"""Line icons drawn in code, in one consistent style, so no icon files need shipping.

Each drawing works on a 24 x 24 grid and is rendered at 48 px for sharp high-DPI display.
"""

from __future__ import annotations

from functools import cache
from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

_SIZE = 48
_NORMAL = QColor(222, 224, 228)
_DISABLED = QColor(110, 112, 118)
ACCENT = QColor(76, 154, 255)


def _render(draw: Callable[[QPainter], None], colour: QColor) -> QPixmap:
    pixmap = QPixmap(_SIZE, _SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(_SIZE / 24, _SIZE / 24)
    pen = QPen(colour, 1.7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    draw(painter)
    painter.end()
    return pixmap


def _make(draw: Callable[[QPainter], None]) -> QIcon:
    icon = QIcon()
    icon.addPixmap(_render(draw, _NORMAL), QIcon.Mode.Normal)
    icon.addPixmap(_render(draw, _DISABLED), QIcon.Mode.Disabled)
    return icon


def _fill_with_pen_colour(painter: QPainter, path: QPainterPath) -> None:
    painter.save()
    painter.setBrush(painter.pen().color())
    painter.drawPath(path)
    painter.restore()


def _brush(p: QPainter) -> None:
    p.drawLine(QPointF(20, 4), QPointF(11, 13))
    tip = QPainterPath(QPointF(10, 12))
    tip.cubicTo(QPointF(6, 12), QPointF(5, 16), QPointF(4, 20))
    tip.cubicTo(QPointF(8, 20), QPointF(13, 19), QPointF(12, 14))
    tip.closeSubpath()
    _fill_with_pen_colour(p, tip)


def _lasso(p: QPainter) -> None:
    # A dashed loop with a tail, like the selection tools of other editors.
    pen = p.pen()
    pen.setDashPattern([2.2, 1.6])
    p.setPen(pen)
    p.drawEllipse(QRectF(4, 4, 16, 11))
    pen.setStyle(Qt.PenStyle.SolidLine)
    p.setPen(pen)
    tail = QPainterPath(QPointF(8, 14.2))
    tail.cubicTo(QPointF(6, 17), QPointF(9, 19), QPointF(7, 21))
    p.drawPath(tail)


def _keep_out(p: QPainter) -> None:
    # A shield: what is under it is protected from being copied.
    shield = QPainterPath(QPointF(12, 3))
    shield.lineTo(QPointF(19, 6))
    shield.cubicTo(QPointF(19, 13), QPointF(16, 18), QPointF(12, 21))
    shield.cubicTo(QPointF(8, 18), QPointF(5, 13), QPointF(5, 6))
    shield.closeSubpath()
    p.drawPath(shield)
    p.drawLine(QPointF(9, 9), QPointF(15, 15))
    p.drawLine(QPointF(15, 9), QPointF(9, 15))


def _eraser(p: QPainter) -> None:
    p.save()
    p.translate(12, 11)
    p.rotate(-45)
    p.drawRoundedRect(QRectF(-9, -4.5, 18, 9), 1.5, 1.5)
    p.drawLine(QPointF(-2, -4.5), QPointF(-2, 4.5))
    p.restore()
    p.drawLine(QPointF(9, 20.5), QPointF(20, 20.5))


def _fill(p: QPainter) -> None:
    p.drawLine(QPointF(4, 20), QPointF(15, 9))
    p.drawLine(QPointF(14, 7.5), QPointF(16.5, 10))
    for x, y, r in ((18.5, 4.5, 1.8), (20.5, 12, 1.3), (12, 3.5, 1.1)):
        p.drawLine(QPointF(x - r, y), QPointF(x + r, y))
        p.drawLine(QPointF(x, y - r), QPointF(x, y + r))


def _accept(p: QPainter) -> None:
    path = QPainterPath(QPointF(4.5, 12.5))
    path.lineTo(9.5, 17.5)
    path.lineTo(19.5, 6.5)
    p.drawPath(path)


def _discard(p: QPainter) -> None:
    p.drawLine(QPointF(6, 6), QPointF(18, 18))
    p.drawLine(QPointF(18, 6), QPointF(6, 18))


def _split(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 1.5, 1.5)
    half = QPainterPath()
    half.addRect(QRectF(3.8, 5.8, 8.2, 12.4))
    p.save()
    fill = QColor(p.pen().color())
    fill.setAlpha(110)
    p.setBrush(fill)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawPath(half)
    p.restore()
    p.drawLine(QPointF(12, 3), QPointF(12, 21))


def _fit(p: QPainter) -> None:
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        cx, cy = 12 - sx * 8, 12 - sy * 7
        p.drawLine(QPointF(cx, cy), QPointF(cx + sx * 4, cy))
        p.drawLine(QPointF(cx, cy), QPointF(cx, cy + sy * 4))
    p.drawRoundedRect(QRectF(8, 8.5, 8, 7), 1, 1)


def _actual_size(p: QPainter) -> None:
    font = QFont()
    font.setPixelSize(10)
    font.setBold(True)
    p.setFont(font)
    p.drawRoundedRect(QRectF(2.5, 5, 19, 14), 2, 2)
    p.drawText(QRectF(2.5, 5, 19, 14), Qt.AlignmentFlag.AlignCenter, "1:1")


def _open(p: QPainter) -> None:
    path = QPainterPath(QPointF(3, 19))
    path.lineTo(3, 6)
    path.lineTo(9, 6)
    path.lineTo(11, 8)
    path.lineTo(19, 8)
    path.lineTo(19, 11)
    p.drawPath(path)
    front = QPainterPath(QPointF(3, 19))
    front.lineTo(6, 11)
    front.lineTo(21.5, 11)
    front.lineTo(18.5, 19)
    front.closeSubpath()
    p.drawPath(front)


def _save(p: QPainter) -> None:
    p.drawLine(QPointF(12, 3.5), QPointF(12, 14))
    arrow = QPainterPath(QPointF(7.5, 10))
    arrow.lineTo(12, 14.5)
    arrow.lineTo(16.5, 10)
    p.drawPath(arrow)
    tray = QPainterPath(QPointF(4, 14))
    tray.lineTo(4, 20)
    tray.lineTo(20, 20)
    tray.lineTo(20, 14)
    p.drawPath(tray)


def _undo(p: QPainter, mirror: bool = False) -> None:
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    path = QPainterPath(QPointF(5, 10))
    path.lineTo(15, 10)
    path.cubicTo(QPointF(22, 10), QPointF(22, 20), QPointF(15, 20))
    path.lineTo(10, 20)
    p.drawPath(path)
    head = QPainterPath(QPointF(9, 6))
    head.lineTo(5, 10)
    head.lineTo(9, 14)
    p.drawPath(head)


def _redo(p: QPainter) -> None:
    _undo(p, mirror=True)


def _cancel(p: QPainter) -> None:
    p.drawEllipse(QPointF(12, 12), 8.5, 8.5)
    p.drawLine(QPointF(9, 9), QPointF(15, 15))
    p.drawLine(QPointF(15, 9), QPointF(9, 15))


_DRAWINGS = {
    "brush": _brush, "eraser": _eraser, "lasso": _lasso, "keep-out": _keep_out, "fill": _fill, "accept": _accept, "discard": _discard,
    "split": _split, "fit": _fit, "actual-size": _actual_size, "open": _open, "save": _save,
    "undo": _undo, "redo": _redo, "cancel": _cancel,
}


@cache
def icon(name: str) -> QIcon:
    """The named icon (see ``_DRAWINGS``); raises KeyError for an unknown name."""
    return _make(_DRAWINGS[name])
