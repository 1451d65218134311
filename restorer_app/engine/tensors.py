"""The one place where photo pixels become model tensors and back (part of the strategy
layer: ``strategy`` pads and runs what is converted here)."""

from __future__ import annotations

import numpy as np

from .masks import holes_of


def max_value(dtype: np.dtype) -> float:
    return 65535.0 if np.dtype(dtype) == np.uint16 else 255.0


def to_float_rgb(pixels: np.ndarray) -> np.ndarray:
    """H x W x C uint8/uint16 (gray, gray+alpha, RGB, RGBA) -> H x W x 3 float32 in [0, 1].

    Alpha is dropped (fills never change it); gray is repeated into three channels.
    """
    colour = pixels[:, :, :1] if pixels.shape[2] in (1, 2) else pixels[:, :, :3]
    rgb = colour.astype(np.float32) * np.float32(1.0 / max_value(pixels.dtype))
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return rgb


def from_float_rgb(rgb: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_float_rgb`: values are clipped, rounded to ``like``'s dtype and
    channel layout, and ``like``'s alpha channel is carried over unchanged."""
    top = max_value(like.dtype)
    channels = like.shape[2]
    colour = rgb.mean(axis=2, keepdims=True) if channels in (1, 2) else rgb
    values = np.clip(np.rint(colour * top), 0, top).astype(like.dtype)
    if channels in (2, 4):
        values = np.concatenate([values, like[:, :, -1:]], axis=2)
    return values


def to_eight_bit(rgb: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8, for work that needs no more (a classical pre-fill, which is only
    the network's starting point)."""
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def from_eight_bit(values: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1] (inverse of :func:`to_eight_bit`)."""
    return values.astype(np.float32) / 255.0


def to_nchw(hwc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(hwc.transpose(2, 0, 1)[None], dtype=np.float32)


def from_nchw(nchw: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(nchw[0].transpose(1, 2, 0))


def mask_to_float(mask: np.ndarray) -> np.ndarray:
    """H x W uint8 mask -> H x W x 1 float32, 1 = hole."""
    return holes_of(mask).astype(np.float32)[:, :, None]
