"""Degraded copies of clean photos for the restoration model, with the levels that were added.

A restoration model learns to remove noise, JPEG artefacts and blur *by the amount it is told*
(FFDNet's idea: the strength is an input, so the user stays in control and ``auto`` is a
separate estimate). Each sample is therefore a triple: the degraded photo, the photo it should
become, and the three levels that were added, in the units the app uses:

* denoise 1.0 = noise of sigma 30/255 (Gaussian, signal-dependent or clumped film grain);
* deblock 1.0 = JPEG quality 10 (level = (100 - Q) / 90; twice-compressed photos count their
  lower quality);
* sharpen 1.0 = blur of Gaussian sigma 3 px (a defocus disc of radius r counts as r / 2, a motion
  streak of length L as L / 3.5, down-and-up scaling by f as 0.45 f).

Fading and colour casts are applied to the target as well as to the input: they are corrected
by a separate global step (curves), so the per-pixel network must learn to keep them. Clean
photos are a share of the samples (all levels 0) so that the network learns to leave a good
photo alone. Degradations are applied in a random order, as a print's history has no fixed one.
Every draw comes from a ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

NOISE_UNIT = 30.0 / 255.0
BLUR_UNIT = 3.0


@dataclass(frozen=True)
class DegradeConfig:
    clean_share: float = 0.12
    noise_probability: float = 0.65
    jpeg_probability: float = 0.5
    blur_probability: float = 0.5
    fade_probability: float = 0.35
    cast_probability: float = 0.35


@dataclass
class Degraded:
    image: np.ndarray  # H x W x 3 uint8, the degraded photo
    target: np.ndarray  # H x W x 3 uint8, what it should become (fading and casts kept)
    levels: np.ndarray  # (3,) float32: denoise, deblock, sharpen in [0, 1]
    original: np.ndarray | None = None  # the photo before any change, fading too (what the whole app should give)


def fade_and_cast(image: np.ndarray, rng: np.random.Generator, config: DegradeConfig) -> np.ndarray:
    """Global changes the network must keep (the app corrects them with curves)."""
    if rng.random() < config.fade_probability:
        lift, drop = rng.uniform(0, 0.2), rng.uniform(0, 0.15)
        image = lift + (1 - lift - drop) * image
    if rng.random() < config.cast_probability:
        image = image * rng.uniform(0.85, 1.1, 3).astype(np.float32)
        if rng.random() < 0.4:  # yellowing
            image = image * np.array([1.0, 0.95, rng.uniform(0.7, 0.9)], np.float32)
    return np.clip(image, 0, 1)


def add_noise(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    sigma = float(rng.uniform(1.0, 30.0)) / 255.0
    kind = rng.random()
    if kind < 0.4:  # Gaussian, colour or luma
        noise = rng.normal(0, 1, (h, w, 3 if rng.random() < 0.5 else 1)).astype(np.float32) * sigma
    elif kind < 0.7:  # signal-dependent (shot noise): sigma at mid-grey
        noise = rng.normal(0, 1, (h, w, 3)).astype(np.float32) * sigma * np.sqrt(np.clip(image, 0.02, 1) / 0.5)
    else:  # film grain: clumped, mostly in luma
        grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.5, 1.2))
        grain = grain / max(1e-6, float(grain.std()))
        noise = (grain[:, :, None] * sigma).astype(np.float32)
    return image + noise, sigma / NOISE_UNIT


def jpeg(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    quality = int(rng.integers(10, 91))
    out = _jpeg(image, quality)
    if rng.random() < 0.25:  # compressed twice, at two qualities (an earlier digitisation, re-saved)
        second = int(rng.integers(10, 91))
        out = _jpeg(out, second)
        quality = min(quality, second)
    return out, (100 - quality) / 90.0


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    eight = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", eight, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0


def blur(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    kind = rng.random()
    if kind < 0.4:
        sigma = rng.uniform(0.4, 3.0)
        return cv2.GaussianBlur(image, (0, 0), sigma), sigma / BLUR_UNIT
    if kind < 0.65:  # defocus disc
        radius = rng.uniform(1.0, 5.0)
        size = int(np.ceil(radius)) * 2 + 1
        kernel = np.zeros((size * 4, size * 4), np.float32)
        cv2.circle(kernel, (size * 2, size * 2), int(radius * 4), 1.0, -1, cv2.LINE_AA)
        kernel = cv2.resize(kernel, (size, size), interpolation=cv2.INTER_AREA)
        return cv2.filter2D(image, -1, kernel / kernel.sum()), (radius / 2) / BLUR_UNIT
    if kind < 0.85:  # small motion
        length = rng.uniform(2.0, 9.0)
        size = int(np.ceil(length)) | 1
        kernel = np.zeros((size, size), np.float32)
        angle = rng.uniform(0, np.pi)
        c = size // 2
        d = np.array([np.cos(angle), np.sin(angle)]) * (length - 1) / 2
        cv2.line(kernel, (int(round(c - d[0])), int(round(c - d[1]))), (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1, cv2.LINE_AA)
        return cv2.filter2D(image, -1, kernel / kernel.sum()), (length / 3.5) / BLUR_UNIT
    factor = rng.uniform(1.5, 4.0)  # down and up again
    small = cv2.resize(image, (max(8, round(w / factor)), max(8, round(h / factor))), interpolation=cv2.INTER_AREA)
    method = [cv2.INTER_LINEAR, cv2.INTER_CUBIC][int(rng.integers(0, 2))]
    return cv2.resize(small, (w, h), interpolation=method), (0.45 * factor) / BLUR_UNIT


def degrade(photo: np.ndarray, rng: np.random.Generator, config: DegradeConfig = DegradeConfig(),
            only: str | None = None, clean: bool | None = None) -> Degraded:
    """A degraded copy of ``photo`` (H x W x 3 uint8). ``only`` = "noise", "jpeg", "blur",
    "fade" or "mix" picks an evaluation set; ``clean=True`` returns the photo untouched."""
    image = photo.astype(np.float32) / 255.0
    image = fade_and_cast(image, rng, config) if only in (None, "mix") else image
    if only == "fade":
        forced = DegradeConfig(fade_probability=1.0, cast_probability=0.7)
        faded = fade_and_cast(image, rng, forced)
        eight = np.clip(np.rint(faded * 255), 0, 255).astype(np.uint8)
        return Degraded(eight, photo.copy(), np.zeros(3, np.float32), photo)
    target = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    levels = np.zeros(3, np.float32)
    if clean is None:
        clean = only is None and rng.random() < config.clean_share
    if clean:
        return Degraded(target.copy(), target, levels, photo)
    steps = {"noise": only in ("noise", "mix") or (only is None and rng.random() < config.noise_probability),
             "jpeg": only in ("jpeg", "mix") or (only is None and rng.random() < config.jpeg_probability),
             "blur": only in ("blur", "mix") or (only is None and rng.random() < config.blur_probability)}
    if not any(steps.values()):
        steps[("noise", "jpeg", "blur")[int(rng.integers(0, 3))]] = True
    order = [name for name in ("blur", "noise", "jpeg") if steps[name]]
    if rng.random() < 0.3:  # history has no fixed order (a noisy scan blurred, a JPEG re-noised)
        rng.shuffle(order)
    degraded = target.astype(np.float32) / 255.0
    for name in order:
        if name == "noise":
            degraded, level = add_noise(degraded, rng)
            levels[0] = max(levels[0], level)
        elif name == "jpeg":
            degraded, level = jpeg(np.clip(degraded, 0, 1), rng)
            levels[1] = max(levels[1], level)
        else:
            degraded, level = blur(degraded, rng)
            levels[2] = max(levels[2], level)
    eight = np.clip(np.rint(degraded * 255), 0, 255).astype(np.uint8)
    return Degraded(eight, target, np.clip(levels, 0, 1).astype(np.float32), photo)
