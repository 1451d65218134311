"""Arrays to QImages for display only; the document keeps the original precision.

8-bit gray, RGB and RGBA arrays are shown without a copy: the QImage views the array's
memory, so an edit in place only needs a repaint of the changed box. 16-bit and
gray+alpha arrays need an 8-bit copy, which is refreshed box by box.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from restorer_app.engine.regions import Box

_DIRECT_FORMATS = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888,
                   4: QImage.Format.Format_RGBA8888}


def to_display_8bit(pixels: np.ndarray) -> np.ndarray:
    """Pixels -> an 8-bit array in a layout QImage can show (gray, RGB or RGBA)."""
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)  # display only; off by at most one level
    if pixels.shape[2] == 2:  # Qt has no gray+alpha format
        gray, alpha = pixels[:, :, :1], pixels[:, :, 1:]
        pixels = np.concatenate([gray, gray, gray, alpha], axis=2)
    return np.ascontiguousarray(pixels)


class DisplayBuffer:
    """A QImage showing ``pixels``; call :meth:`refresh` after changing pixels in place."""

    def __init__(self, pixels: np.ndarray) -> None:
        self._source = pixels
        direct = pixels.dtype == np.uint8 and pixels.shape[2] != 2 and pixels.flags.c_contiguous
        # A read-only array (the original as opened) is still safe to view: QImage never
        # writes to a buffer it was given unless someone paints on it, and nobody does.
        self._array = pixels if direct else to_display_8bit(pixels)
        self._copy = not direct
        height, width, channels = self._array.shape
        self.image = QImage(self._array.data, width, height, width * channels, _DIRECT_FORMATS[channels])

    @property
    def source(self) -> np.ndarray:
        return self._source

    def refresh(self, box: Box) -> None:
        """Re-derive the display pixels of ``box`` from the source (no-op for direct views)."""
        if self._copy:
            self._array[box.slices] = to_display_8bit(self._source[box.slices])


def mask_overlay_image(mask: np.ndarray, colour: QColor) -> QImage:
    """An indexed QImage viewing ``mask``'s memory: 0 transparent, anything else ``colour``.

    Because it views the mask, a brush stroke shows up with no conversion at all; the
    canvas only repaints the stroke's box.
    """
    height, width = mask.shape
    image = QImage(mask.data, width, height, width, QImage.Format.Format_Indexed8)
    image.setColorTable([QColor(0, 0, 0, 0).rgba()] + [colour.rgba()] * 255)
    return image
