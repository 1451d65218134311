"""Captions that describe what is really inside a hole, generated from its pixels.

At inference a user types what belongs in the hole ("clear blue sky", "dark brick wall").
To teach the network to use such words, each training hole gets a caption made from the
ground-truth pixels it has to reconstruct: up to two colour names, light or dark, smooth or
textured, and whether it is a gradient. The words are the ones people use, so the sentence
encoder places the user's prompts near the training captions.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Hue ranges in degrees (OpenCV's H x 2), checked in order; red wraps around 0.
_HUES = (
    ("red", 0, 15), ("orange", 15, 40), ("yellow", 40, 70), ("green", 70, 160),
    ("cyan", 160, 200), ("blue", 200, 255), ("purple", 255, 290), ("pink", 290, 340), ("red", 340, 361),
)


def pixel_colour_names(rgb: np.ndarray) -> np.ndarray:
    """Name every pixel of an N x 3 float RGB array in [0, 1] (object array of words).

    Achromatic pixels (low saturation) become black/grey/white by value; dim oranges and
    reds become brown, which is what people call them.
    """
    hsv = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32).reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    names = np.empty(len(hsv), dtype=object)
    for name, lo, hi in _HUES:
        names[(hue >= lo) & (hue < hi)] = name
    brown = np.isin(names, ["orange", "red", "yellow"]) & (val < 0.55) & (sat > 0.25)
    names[brown] = "brown"
    grey = (sat < 0.18) | (val < 0.12)
    names[grey & (val < 0.18)] = "black"
    names[grey & (val >= 0.18) & (val < 0.8)] = "grey"
    names[grey & (val >= 0.8)] = "white"
    return names


def describe_pixels(rgb: np.ndarray, mask: np.ndarray | None = None, rng: np.random.Generator | None = None) -> str:
    """A short caption of the pixels of ``rgb`` (H x W x 3 float in [0, 1]) where ``mask``
    is set (all pixels if None). ``rng`` varies the wording; without it the wording is fixed.
    """
    inside = np.ones(rgb.shape[:2], bool) if mask is None else mask.astype(bool)
    if not inside.any():
        return ""
    pixels = rgb[inside]
    names = pixel_colour_names(pixels)
    words, counts = np.unique(names, return_counts=True)
    order = np.argsort(-counts)
    share = counts[order] / counts.sum()
    colours = [str(words[order[0]])]
    if len(order) > 1 and share[1] >= 0.25:
        colours.append(str(words[order[1]]))

    luma = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    mean_luma = float(luma.mean())
    tone = "dark" if mean_luma < 0.3 else "light" if mean_luma > 0.72 else ""
    if colours[0] in ("black", "white") and len(colours) == 1:
        tone = ""  # "dark black" says nothing more

    texture = _texture_word(rgb, inside, float(luma.std()))
    colour_text = " and ".join(colours)
    parts = [p for p in (texture, tone, colour_text) if p]
    if rng is None:
        return " ".join(parts)
    noun = rng.choice(["", "", " area", " region", " surface", " patch"])
    text = " ".join(parts) + noun
    if rng.random() < 0.2:
        text = f"{colour_text}, {texture or 'plain'}" + (f" and {tone}" if tone else "")
    return text


def _texture_word(rgb: np.ndarray, inside: np.ndarray, luma_std: float) -> str:
    """smooth / textured / detailed from local detail energy, or 'gradient' for smooth
    regions whose brightness still changes a lot (skies, vignettes)."""
    gray = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)
    detail = np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 1.5))
    energy = float(detail[inside].mean())
    if energy < 0.012:
        return "smooth gradient" if luma_std > 0.08 else "smooth"
    if energy < 0.035:
        return "textured"
    return "detailed"
