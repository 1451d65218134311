"""Extended canvas: a photo with new margins that are then generated like a torn edge.

:func:`extend_canvas` gives the larger image (the photo's own pixels copied in, bit for bit)
and the mask of the new band; the fill itself is an ordinary ``auto`` fill, which hands bands at
the photo's edge to the generation model (pipeline.needs_generation). The record of the
operation names the margins (provenance ``extend_*``) and the band is the synthesized mask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import RestorerError
from .imageio import RasterImage
HOLE = 255

#: A margin may add at most this much of the photo's side it extends (2: the photo's side
#: twice over), so the generated part never dwarfs the photo it continues.
MAX_MARGIN_SHARE = 1.0


class CanvasError(RestorerError):
    """Margins that cannot be used (malformed, negative, all zero or too large)."""


@dataclass(frozen=True)
class Margins:
    top: int
    right: int
    bottom: int
    left: int

    @property
    def any(self) -> bool:
        return bool(self.top or self.right or self.bottom or self.left)

    def __str__(self) -> str:
        return f"{self.top},{self.right},{self.bottom},{self.left}"

    @classmethod
    def parse(cls, text: str, height: int, width: int) -> "Margins":
        """``TOP,RIGHT,BOTTOM,LEFT`` in pixels or percent of the side each margin extends
        (``10%`` on top adds a tenth of the height); one value for all four sides, two for
        top/bottom and left/right, as in CSS."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) == 1:
            parts *= 4
        elif len(parts) == 2:
            parts = [parts[0], parts[1], parts[0], parts[1]]
        if len(parts) != 4:
            raise CanvasError(f"Margins '{text}' need 1, 2 or 4 values: TOP,RIGHT,BOTTOM,LEFT (pixels or %).")
        sides = (height, width, height, width)
        values = []
        for part, side in zip(parts, sides):
            match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|px)?", part)
            if not match:
                raise CanvasError(f"Margin '{part}' is not a number of pixels or a percentage (e.g. 120 or 10%).")
            number = float(match.group(1))
            values.append(int(round(side * number / 100.0)) if match.group(2) == "%" else int(round(number)))
        margins = cls(*values)
        margins.check(height, width)
        return margins

    def check(self, height: int, width: int) -> None:
        if min(self.top, self.right, self.bottom, self.left) < 0:
            raise CanvasError("Margins cannot be negative.")
        if not self.any:
            raise CanvasError("All four margins are 0: there is nothing to extend.")
        for name, value, side in (("top", self.top, height), ("right", self.right, width),
                                  ("bottom", self.bottom, height), ("left", self.left, width)):
            if value > MAX_MARGIN_SHARE * side:
                raise CanvasError(f"The {name} margin ({value} px) is larger than the photo's "
                                  f"{'height' if name in ('top', 'bottom') else 'width'} ({side} px); "
                                  "extend in steps, or by less.")


def extend_canvas(image: RasterImage, margins: Margins) -> tuple[RasterImage, np.ndarray]:
    """(the photo on a larger canvas, the mask of the new band: 255 = to generate).

    The band starts as the photo's edge pixels repeated (no fill reads them: they are holes),
    with opaque alpha; the photo's pixels are copied unchanged."""
    margins.check(image.height, image.width)
    pad = ((margins.top, margins.bottom), (margins.left, margins.right), (0, 0))
    pixels = np.pad(image.pixels, pad, mode="edge")
    if image.has_alpha:
        band = np.ones(pixels.shape[:2], bool)
        band[margins.top:margins.top + image.height, margins.left:margins.left + image.width] = False
        pixels[band, -1] = np.iinfo(pixels.dtype).max
    mask = np.full(pixels.shape[:2], HOLE, np.uint8)
    mask[margins.top:margins.top + image.height, margins.left:margins.left + image.width] = 0
    return RasterImage(pixels, image.info, image.path), mask


def photo_part(pixels: np.ndarray, margins: Margins) -> np.ndarray:
    """The part of an extended canvas that is the original photo."""
    h, w = pixels.shape[:2]
    return pixels[margins.top:h - margins.bottom, margins.left:w - margins.right]
