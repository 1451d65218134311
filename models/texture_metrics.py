"""Full-reference measures of a fill's texture, beside hole-PSNR (which rewards smooth means).

* :func:`hole_ssim` - the luma SSIM map (11x11 Gaussian window, sigma 1.5, 8-bit constants)
  averaged over the hole's pixels only. A blurred fill loses the contrast term, noise the
  structure term.
* :func:`texture_distance` - how far the statistics of the fill's fine detail are from the
  truth's: 0 = the truth's own; a shifted copy of the photo scores a few hundredths, OpenCV's
  diffusion fills about 0.7-1.5. Details in :func:`texture_parts`.

Both take H x W x 3 uint8 RGB and a bool hole mask and return NaN where the hole is too small
to measure; callers skip NaN when averaging (:func:`mean_of_finite`).

``python -m models.texture_metrics --check`` prints both, with hole-PSNR, for a shifted copy of
the truth, Navier-Stokes and Telea on a few validation photos with the evaluation's holes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 255) ** 2
SSIM_C2 = (0.03 * 255) ** 2

#: Inside the logs, in 8-bit luma units (0-255), as every texture quantity here: a thousandth
#: of a level, so exactly flat pixels (common in 8-bit skies) form their own mode at
#: log(1e-3) = -6.9 in fill and truth alike instead of -inf.
LOG_EPSILON = 1e-3
#: In the coherence's denominator (squared 8-bit units): only keeps exactly flat pixels at 0
#: instead of 0/0. A floor of a level or so would push the weak but perfectly oriented gradients
#: of a diffused fill (coherence near 1) towards 0, hiding what tells them from real texture.
COHERENCE_EPSILON = 1e-3
STRUCTURE_SIGMA = 1.5
QUANTILES = np.arange(1, 100) / 100.0
#: Floor of the truth's spread a distance is divided by: a flat truth (every pixel the same
#: gradient) would otherwise turn any texture in the fill into an infinite distance.
SPREAD_FLOOR = 0.05
#: Fewer hole pixels than this after the 1 px erosion (thin scratches): NaN, not a noisy number.
MIN_PIXELS = 20
_LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (OpenCV's RGB2GRAY, as the evaluation's sharpness) without rounding, 0-255."""
    return cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY).astype(np.float64)


def ssim_map(result: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel luma SSIM (Wang et al. 2004) of two RGB uint8 images."""
    x, y = luma(result), luma(truth)

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / ((mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2))


def hole_ssim(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Luma SSIM averaged over the hole's pixels (the window still sees the pixels around it)."""
    if not hole.any():
        return float("nan")
    return float(ssim_map(result, truth)[hole].mean())


@dataclass(frozen=True)
class TextureParts:
    """The three normalised Wasserstein distances; ``distance`` is their mean."""

    gradient: float
    laplacian: float
    coherence: float

    @property
    def distance(self) -> float:
        return (self.gradient + self.laplacian + self.coherence) / 3.0


def texture_features(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: log Sobel gradient magnitude, log |Laplacian| and structure-tensor coherence.

    Computed on the whole image, so the pixels at a hole's edge see their real neighbours.
    """
    y = luma(rgb).astype(np.float32)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.log(np.sqrt(gx * gx + gy * gy) + LOG_EPSILON)
    laplacian = np.log(np.abs(cv2.filter2D(y, cv2.CV_32F, _LAPLACIAN)) + LOG_EPSILON)
    jxx, jyy, jxy = (cv2.GaussianBlur(p, (0, 0), STRUCTURE_SIGMA) for p in (gx * gx, gy * gy, gx * gy))
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / (jxx + jyy + COHERENCE_EPSILON)
    return magnitude, laplacian, coherence


def _quantile_distance(values: np.ndarray, reference: np.ndarray) -> float:
    """1-D Wasserstein distance over the 1..99 % quantiles, in units of the reference's spread."""
    values, reference = values.astype(np.float64), reference.astype(np.float64)
    gap = np.abs(np.quantile(values, QUANTILES) - np.quantile(reference, QUANTILES))
    return float(gap.mean() / max(float(reference.std()), SPREAD_FLOOR))


def measured_pixels(hole: np.ndarray) -> np.ndarray:
    """The hole eroded by 1 px (3x3): pixels whose whole Sobel/Laplacian footprint is fill."""
    return cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def texture_parts(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> TextureParts:
    """Distances of the fill's gradient, Laplacian and coherence distributions from the truth's.

    Each is the mean absolute difference of the 99 quantiles at 1, 2, ..., 99 % over the
    eroded hole (:func:`measured_pixels`), divided by the truth's standard deviation of that
    quantity over the same pixels (at least ``SPREAD_FLOOR``). Logs are natural, of values in
    8-bit luma units (0-255) plus ``LOG_EPSILON`` (1e-3). All three are NaN when fewer than
    ``MIN_PIXELS`` pixels remain after the erosion.
    """
    pixels = measured_pixels(hole)
    if np.count_nonzero(pixels) < MIN_PIXELS:
        nan = float("nan")
        return TextureParts(nan, nan, nan)
    ours, theirs = texture_features(result), texture_features(truth)
    return TextureParts(*(_quantile_distance(a[pixels], b[pixels]) for a, b in zip(ours, theirs)))


def texture_distance(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean of :func:`texture_parts`: 0 = the truth's texture statistics; NaN for too small holes."""
    return texture_parts(result, truth, hole).distance


def mean_of_finite(values) -> float | None:
    """Mean of the values that are not NaN; None when there are none (thin scratches only)."""
    finite = [float(v) for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def shifted_fill(truth: np.ndarray, hole: np.ndarray, shift: int = 9) -> np.ndarray:
    """The hole filled with the photo itself translated by ``shift`` px to the right: real
    texture of the right kind in the wrong place, what a texture measure must call near 0."""
    moved = cv2.warpAffine(truth, np.float32([[1, 0, shift], [0, 1, 0]]), (truth.shape[1], truth.shape[0]),
                           flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    out = truth.copy()
    out[hole] = moved[hole]
    return out


def check(data: Path, photos: int = 8, long_side: int = 512, seed: int = 0) -> str:
    """A table of texture distance, hole-SSIM and hole-PSNR of a 9 px shifted truth, NS and Telea."""
    from .evaluate import hole_psnr, validation_photos
    from .masks import MaskFamily, generate_mask

    fills = {
        "truth shifted 9 px": lambda rgb, mask: shifted_fill(rgb, mask > 0),
        "Navier-Stokes": lambda rgb, mask: cv2.inpaint(rgb, mask, 3, cv2.INPAINT_NS),
        "Telea": lambda rgb, mask: cv2.inpaint(rgb, mask, 3, cv2.INPAINT_TELEA),
    }
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    chosen = validation_photos(data, long_side)[:photos]
    for p_index, (_, rgb) in enumerate(chosen):
        for f_index, family in enumerate(MaskFamily):  # the seeds of models.evaluate's first mask
            mask = generate_mask(family, rgb.shape[0], rgb.shape[1], np.random.default_rng([seed, p_index, f_index, 0]))
            hole = mask > 0
            for name, fill in fills.items():
                result = fill(rgb, mask)
                rows.setdefault((family.value, name), []).append(
                    (texture_distance(result, rgb, hole), hole_ssim(result, rgb, hole), hole_psnr(result, rgb, hole)))
    lines = [f"{len(chosen)} validation photos at {long_side} px long side, one seeded mask per family each "
             "(texture distance: mean over holes [min-max]; holes too thin to measure skipped)", "",
             "| family | fill | texture distance | holes | hole-SSIM | hole-PSNR (dB) |", "|---|---|---|---|---|---|"]
    for (family, name), values in rows.items():
        texture = [t for t, _, _ in values if np.isfinite(t)]
        spread = f"{np.mean(texture):.3f} [{min(texture):.3f}-{max(texture):.3f}]" if texture else "-"
        lines.append(f"| {family} | {name} | {spread} | {len(texture)} | {np.mean([s for _, s, _ in values]):.3f} "
                     f"| {np.mean([p for _, _, p in values]):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.texture_metrics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="measure reference fills on validation photos")
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--long-side", type=int, default=512)
    args = parser.parse_args(argv)
    if not args.check:
        parser.error("nothing to do: pass --check")
    print(check(args.data, args.photos, args.long_side))


if __name__ == "__main__":
    main(sys.argv[1:])
