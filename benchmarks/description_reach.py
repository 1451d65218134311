"""Where a description helps and where it harms: hole-PSNR with and without one, by hole size.

Photos (the bundled sample, a sepia scan scored only away from its own damage, and
scikit-image's astronaut, coffee, chelsea and motorcycle) get lines 8..48 px wide and round blobs of radius 20..80 px; each is filled with
``auto`` (the app's default model, default settings) three times through the engine: without
a description, with "clear blue sky" (a description that does not fit these photos, as a
restorer's caption for one hole does not fit the next) and with a caption of the hole's true
pixels (the best a description can do). Prints a Markdown table of the mean hole-PSNR per
mask, the change a description makes, and how far the wrong description moved the fill
(mean absolute difference from the fill without it, in 8-bit levels: a stripe's visibility);
then the hole-SSIM and texture distance of the same fills (``models/texture_metrics.py``).

    .venv/bin/python benchmarks/description_reach.py [--photos astronaut,coffee] [--per-photo]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from restorer_app.engine.imageio import load_image
from restorer_app.engine.pipeline import AUTO, Inpainter, InpaintRequest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # models/ is not installed; it sits beside this folder
    sys.path.insert(0, str(ROOT))

from models.texture_metrics import hole_ssim, mean_of_finite, texture_distance  # noqa: E402

SKIMAGE_DATA = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
    "site-packages" / "skimage" / "data"
PHOTOS = {
    "portrait": ROOT / "resources" / "samples" / "damaged_portrait.jpg",
    "astronaut": SKIMAGE_DATA / "astronaut.png",
    "coffee": SKIMAGE_DATA / "coffee.png",
    "chelsea": SKIMAGE_DATA / "chelsea.png",
    "motorcycle": SKIMAGE_DATA / "motorcycle_left.png",
}
SAMPLE_DAMAGE = ROOT / "resources" / "samples" / "damaged_portrait_mask.png"
LINE_WIDTHS = (8, 16, 24, 30, 48)  # 30: the default 24 px brush grown by 3 px on each side
BLOB_RADII = (20, 40, 80)
WRONG = "clear blue sky"


def line_mask(height: int, width: int, thickness: int) -> np.ndarray:
    """Two long strokes across the photo, as a brush would paint over a crease."""
    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (width // 10, height * 3 // 10), (width * 9 // 10, height * 9 // 20), 255, thickness)
    cv2.line(mask, (width // 5, height * 9 // 10), (width * 7 // 10, height // 10), 255, thickness)
    return mask


def blob_mask(height: int, width: int, radius: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, (width // 3, height // 2), radius, 255, -1)
    cv2.circle(mask, (width * 3 // 4, height * 2 // 5), radius * 2 // 3, 255, -1)
    return mask


def masks_for(height: int, width: int) -> dict[str, np.ndarray]:
    cases = {f"line {w} px": line_mask(height, width, w) for w in LINE_WIDTHS}
    cases.update({f"blob r{r}": blob_mask(height, width, r) for r in BLOB_RADII})
    return cases


def hole_psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    diff = (result.astype(np.float64) - truth.astype(np.float64)) / 255.0
    return float(10.0 * np.log10(1.0 / max(float((diff[hole] ** 2).mean()), 1e-10)))


def true_caption(pixels: np.ndarray, hole: np.ndarray) -> str:
    from models.captions import describe_pixels  # the captions the model was trained with

    return describe_pixels(pixels.astype(np.float32) / 255.0, hole)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default="portrait,astronaut,coffee,chelsea", help="comma-separated names from: " + ", ".join(PHOTOS))
    parser.add_argument("--per-photo", action="store_true", help="a row per photo and mask, not only the means")
    args = parser.parse_args()
    inpainter = Inpainter()
    rows: dict[str, list[tuple[float, ...]]] = {}
    textures: dict[str, list[tuple[float, ...]]] = {}  # hole-SSIM x3, texture distance x3 per fill
    per_photo = []
    notices: set[str] = set()
    names = args.photos.split(",")
    for name in names:
        image = load_image(PHOTOS[name])
        known = np.ones((image.height, image.width), bool)
        if name == "portrait":  # its own scratches and dust are no truth to score against
            damage = cv2.imread(str(SAMPLE_DAMAGE), cv2.IMREAD_GRAYSCALE)
            known = cv2.dilate(damage, np.ones((5, 5), np.uint8)) == 0
        for case, mask in masks_for(image.height, image.width).items():
            hole = mask > 0
            scored = hole & known
            fills = [inpainter.inpaint(image, mask, InpaintRequest(method=AUTO, prompt=prompt))
                     for prompt in ("", WRONG, true_caption(image.pixels, scored))]
            for fill in fills:
                notices.update(fill.notices)
            plain = fills[0].pixels.astype(np.float64)
            scores = tuple(hole_psnr(fill.pixels, image.pixels, scored) for fill in fills) + tuple(
                float(np.abs(fill.pixels[hole] - plain[hole]).mean()) for fill in fills[1:])
            texture = tuple(hole_ssim(fill.pixels, image.pixels, scored) for fill in fills) + tuple(
                texture_distance(fill.pixels, image.pixels, scored) for fill in fills)
            rows.setdefault(case, []).append(scores)
            textures.setdefault(case, []).append(texture)
            per_photo.append((name, case, *scores, *texture))
            print(f"{name:10s} {case:12s} " + "  ".join(f"{v:6.2f}" for v in scores), file=sys.stderr, flush=True)
    print(f"\nhole-PSNR (dB), mean over {len(names)} photos ({', '.join(names)}); '{WRONG}' does not fit "
          "them, the true caption describes the hole's own pixels; shift: mean |described - plain| in levels\n")
    print(f"| mask | no description | '{WRONG}' | change | shift | true caption | change | shift |")
    print("|---|---|---|---|---|---|---|---|")
    for case, values in rows.items():
        plain, wrong, true, wrong_shift, true_shift = np.mean(values, axis=0)
        print(f"| {case} | {plain:.2f} | {wrong:.2f} | {wrong - plain:+.2f} | {wrong_shift:.1f} | {true:.2f} "
              f"| {true - plain:+.2f} | {true_shift:.1f} |")
    print("\nThe same fills: hole-SSIM (luma, over the hole) and texture distance (0 = the photo's own "
          "texture statistics; empty where a hole is too thin to measure)\n")
    print(f"| mask | hole-SSIM: no description | '{WRONG}' | true caption "
          f"| texture: no description | '{WRONG}' | true caption |")
    print("|---|---|---|---|---|---|---|")
    for case, values in textures.items():
        ssim = np.mean([v[:3] for v in values], axis=0)
        texture = [mean_of_finite(v[3 + k] for v in values) for k in range(3)]
        print(f"| {case} | " + " | ".join(f"{v:.3f}" for v in ssim) + " | "
              + " | ".join("" if v is None else f"{v:.2f}" for v in texture) + " |")
    if args.per_photo:
        print("\n| photo | mask | no description | wrong | true | wrong shift | true shift "
              "| hole-SSIM: none | wrong | true | texture: none | wrong | true |\n" + "|---" * 13 + "|")
        for name, case, *values in per_photo:
            print(f"| {name} | {case} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    print("\nNotices seen:\n" + "\n".join(f"- {n}" for n in sorted(notices)))


if __name__ == "__main__":
    main()
