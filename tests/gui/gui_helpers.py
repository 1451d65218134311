"""Test data and small steps shared by the GUI tests."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from restorer_app.engine.regions import Box

HEIGHT, WIDTH = 96, 128
#: The painted "damage": a saturated red square on a smooth gradient photo.
DAMAGE = Box(56, 36, 72, 52)
RED = (255, 0, 0)


def make_photo_pixels() -> np.ndarray:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    pixels = np.stack([xx * 255 // WIDTH, yy * 255 // HEIGHT, (xx + yy) * 255 // (WIDTH + HEIGHT)], axis=2)
    pixels = pixels.astype(np.uint8)
    pixels[DAMAGE.slices] = RED
    return pixels


def damage_mask() -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[DAMAGE.y0 - 2:DAMAGE.y1 + 2, DAMAGE.x0 - 2:DAMAGE.x1 + 2] = 255
    return mask


def viewport_point(window, x: float, y: float):
    """Where image pixel centre (x, y) is in the canvas viewport."""
    return window.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def run_fill(qtbot, window, timeout: int = 10_000) -> None:
    with qtbot.waitSignal(window.fill_done, timeout=timeout):
        assert window.fill()


def fill_and_accept(qtbot, window) -> np.ndarray:
    """Fill the current mask, accept it, and return the pixels after."""
    run_fill(qtbot, window)
    window.accept_fill()
    return window.editor.document.image.pixels.copy()


def paint(window, points, diameter: float = 5, erase: bool = False) -> None:
    """One brush stroke through ``points`` (image coordinates), as the canvas would paint it."""
    editor = window.editor
    editor.begin_stroke(*points[0], diameter, erase=erase)
    for point in points[1:]:
        editor.continue_stroke(*point)
    editor.end_stroke()
