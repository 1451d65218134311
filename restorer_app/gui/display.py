"""Arrays to QImages for display only; the document keeps the original precision.

8-bit gray, RGB and RGBA arrays are shown without a copy: the QImage views the array's
memory, so an edit in place only needs a repaint of the changed box. 16-bit and
gray+alpha arrays need an 8-bit copy, which is refreshed box by box. Both are made on first
use, so a layer that is never shown (the 'before' photo until you compare) costs nothing.

Large photos also get a level-of-detail pyramid (each level half the size of the one
below, down to ~1000 pixels): zoomed out, the canvas draws from the level nearest the
screen's resolution, so a 60 MP scan repaints like a 1 MP one. Edits refresh only the
matching box of each level.
"""

from __future__ import annotations

import cv2
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


#: Photos whose long side exceeds this get a pyramid; its smallest level is about this size.
PYRAMID_MIN_SIDE = 1024


def _qimage(array: np.ndarray) -> QImage:
    height, width, channels = array.shape
    return QImage(array.data, width, height, width * channels, _DIRECT_FORMATS[channels])


def _pad_even(array: np.ndarray) -> np.ndarray:
    height, width = array.shape[:2]
    if height % 2 or width % 2:
        pad = ((0, height % 2), (0, width % 2)) + ((0, 0),) * (array.ndim - 2)
        array = np.pad(array, pad, mode="edge")
    return array


def _half_mean(array: np.ndarray) -> np.ndarray:
    """Each output pixel is the mean of a 2x2 block (an odd last row/column is repeated), so
    halving a box of a level gives exactly the same pixels as halving the whole level."""
    array = _pad_even(array)
    small = cv2.resize(array, (array.shape[1] // 2, array.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return small.reshape(small.shape[0], small.shape[1], array.shape[2])


def _half_max(array: np.ndarray) -> np.ndarray:
    """2x2 maximum: a one-pixel scratch in the mask stays visible when zoomed far out."""
    array = _pad_even(array)
    height, width = array.shape[0] // 2, array.shape[1] // 2
    return array.reshape(height, 2, width, 2).max(axis=(1, 3))


class Pyramid:
    """Levels 1/2, 1/4, ... of ``base`` down to about :data:`PYRAMID_MIN_SIDE`, made by
    ``halve`` and kept up to date box by box."""

    def __init__(self, base: np.ndarray, halve) -> None:
        self.base = base
        self._halve = halve
        self.levels: list[np.ndarray] = []
        array = base
        while max(array.shape[:2]) > PYRAMID_MIN_SIDE:
            array = halve(array)
            self.levels.append(array)

    def refresh(self, box: Box) -> None:
        finer = self.base
        y0, x0, y1, x1 = box.y0, box.x0, box.y1, box.x1
        for array in self.levels:
            # Even bounds in the finer level, so each coarse pixel is rebuilt from all four.
            y0, x0 = (y0 // 2) * 2, (x0 // 2) * 2
            y1, x1 = min(-(-y1 // 2) * 2, finer.shape[0]), min(-(-x1 // 2) * 2, finer.shape[1])
            if y1 <= y0 or x1 <= x0:
                return
            patch = self._halve(finer[y0:y1, x0:x1])
            y0, x0 = y0 // 2, x0 // 2
            y1, x1 = y0 + patch.shape[0], x0 + patch.shape[1]
            array[y0:y1, x0:x1] = patch
            finer = array


def level_index(scale: float, count: int) -> int:
    """Which level to draw at ``scale`` screen pixels per photo pixel (0 = full size): the
    smallest that still has at least one pixel per screen pixel."""
    k = 0
    while k < count and scale * 2 ** (k + 1) <= 1.0:
        k += 1
    return k


def _pick(base: QImage, levels: list[QImage], scale: float) -> tuple[QImage, int]:
    """(image, reduction factor) to draw at ``scale`` from a base image and its levels."""
    k = level_index(scale, len(levels))
    return (base, 1) if k == 0 else (levels[k - 1], 2 ** k)


class DisplayBuffer:
    """A QImage showing ``pixels`` (plus smaller levels for large photos); call
    :meth:`refresh` after changing pixels in place."""

    def __init__(self, pixels: np.ndarray) -> None:
        self._source = pixels
        self._direct = pixels.dtype == np.uint8 and pixels.shape[2] != 2 and pixels.flags.c_contiguous
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._pyramid: Pyramid | None = None
        self._level_images: list[QImage] = []

    @property
    def source(self) -> np.ndarray:
        return self._source

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) without building anything."""
        return self._source.shape[1], self._source.shape[0]

    @property
    def image(self) -> QImage:
        if self._image is None:
            # A read-only array (the original as opened) is still safe to view: QImage never
            # writes to a buffer it was given unless someone paints on it, and nobody does.
            self._array = self._source if self._direct else to_display_8bit(self._source)
            self._image = _qimage(self._array)
        return self._image

    def level_for(self, scale: float) -> tuple[QImage, int]:
        """The image to draw at ``scale`` screen pixels per photo pixel, and its reduction factor."""
        base = self.image
        if scale > 0.5 or max(self.size) <= PYRAMID_MIN_SIDE:
            return base, 1
        if self._pyramid is None:
            self._pyramid = Pyramid(self._array, _half_mean)
            self._level_images = [_qimage(level) for level in self._pyramid.levels]
        return _pick(base, self._level_images, scale)

    def refresh(self, box: Box) -> None:
        """Re-derive the display pixels of ``box`` from the source."""
        if self._array is None:
            return  # nothing built yet; it will be made from the current pixels
        if not self._direct:
            self._array[box.slices] = to_display_8bit(self._source[box.slices])
        if self._pyramid is not None:
            self._pyramid.refresh(box)


class MaskLevels:
    """The mask and its max-reduced pyramid as indexed QImages viewing their memory."""

    def __init__(self, mask: np.ndarray, colour: QColor) -> None:
        self.mask = mask
        self._colour = colour
        self._pyramid: Pyramid | None = None
        self._images: list[QImage] = []
        self.image = mask_overlay_image(mask, colour)

    def level_for(self, scale: float) -> tuple[QImage, int]:
        if scale > 0.5 or max(self.mask.shape) <= PYRAMID_MIN_SIDE:
            return self.image, 1
        if self._pyramid is None:
            self._pyramid = Pyramid(self.mask, _half_max)
            self._images = [mask_overlay_image(level, self._colour) for level in self._pyramid.levels]
        return _pick(self.image, self._images, scale)

    def refresh(self, box: Box) -> None:
        if self._pyramid is not None:
            self._pyramid.refresh(box)

    def set_colour(self, colour: QColor) -> None:
        """Draw in ``colour`` from now on (a colour table change: nothing is converted)."""
        self._colour = colour
        table = _colour_table(colour)
        for image in [self.image, *self._images]:
            image.setColorTable(table)


def _colour_table(colour: QColor) -> list[int]:
    return [QColor(0, 0, 0, 0).rgba()] + [colour.rgba()] * 255


def mask_overlay_image(mask: np.ndarray, colour: QColor) -> QImage:
    """An indexed QImage viewing ``mask``'s memory: 0 transparent, anything else ``colour``.

    Because it views the mask, a brush stroke shows up with no conversion at all; the
    canvas only repaints the stroke's box.
    """
    height, width = mask.shape
    image = QImage(mask.data, width, height, width, QImage.Format.Format_Indexed8)
    image.setColorTable(_colour_table(colour))
    return image
