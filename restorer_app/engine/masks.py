"""Masks: H x W uint8 arrays, 255 = fill, 0 = keep. Operations never change the size."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .errors import MaskError
from .imageio import load_image

FILL = 255


def holes_of(mask: np.ndarray) -> np.ndarray:
    """The boolean hole mask the engine works on: True where ``mask`` is nonzero (to be filled).

    A mask is uint8 at the engine's edges (files, the GUI's painting, projects); inside, the
    question "is this pixel a hole?" is answered here once.
    """
    return mask != 0


def mask_of(holes: np.ndarray) -> np.ndarray:
    """The uint8 mask (255 = fill) of a boolean hole mask, for files and the GUI."""
    return np.where(holes, np.uint8(FILL), np.uint8(0))


def mask_from_array(array: np.ndarray) -> np.ndarray:
    """Any image-like array -> binary mask. Nonzero in any colour channel means fill.

    An alpha channel is ignored unless the image is alpha only; a painted mask with a
    transparent background (RGBA, colour where painted) also works because its colour
    channels are zero where nothing was painted.
    """
    if array.ndim == 2:
        marked = array != 0
    elif array.ndim == 3 and array.shape[2] in (2, 4):
        colour = array[:, :, : array.shape[2] - 1]
        alpha = array[:, :, -1]
        marked = np.any(colour != 0, axis=2) & (alpha != 0)
    elif array.ndim == 3:
        marked = np.any(array != 0, axis=2)
    else:
        raise MaskError("A mask must be a 2-D image.")
    return mask_of(marked)


def load_mask(path: str | os.PathLike, size: tuple[int, int] | None = None, *, max_pixels: int | None = None) -> np.ndarray:
    """Read a mask image. ``size`` = (height, width) of the photo it belongs to, if known."""
    mask = mask_from_array(load_image(path, max_pixels=max_pixels).pixels)
    if size is not None:
        check_mask_size(mask, size, name=Path(path).name)
    return mask


def check_mask_size(mask: np.ndarray, size: tuple[int, int], *, name: str = "The mask") -> None:
    if mask.shape[:2] != tuple(size):
        h, w = mask.shape[:2]
        raise MaskError(
            f"'{name}' is {w}x{h} but the photo is {size[1]}x{size[0]}; a mask must have the photo's size."
        )


def is_empty(mask: np.ndarray) -> bool:
    return not mask.any()


def coverage(mask: np.ndarray) -> float:
    """Fraction of pixels marked for filling."""
    return float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0


def invert(mask: np.ndarray) -> np.ndarray:
    return mask_of(~holes_of(mask))


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate by ``pixels`` (a round brush, so corners stay round)."""
    if pixels <= 0:
        return mask.copy()
    return cv2.dilate(mask, _disk(pixels))


def shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Erode by ``pixels``."""
    if pixels <= 0:
        return mask.copy()
    return cv2.erode(mask, _disk(pixels))


def feather(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Soft edge of about ``pixels`` width outside the hole: 255 inside, falling to 0.

    The hole itself stays fully 255 so a feathered blend never lets damaged pixels through.
    """
    if pixels <= 0:
        return mask.copy()
    distance = cv2.distanceTransform(mask_of(~holes_of(mask)), cv2.DIST_L2, 5)
    soft = np.clip(1.0 - distance / float(pixels), 0.0, 1.0)
    return np.round(soft * FILL).astype(np.uint8)
