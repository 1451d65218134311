"""Texture of large learned fills: the photo's own detail (engine/texture.py) against the
random-phase grain it replaced, the network alone and PatchMatch.

Validation photos (models/evaluate.py's, never trained on) at 512 px long side get one seeded
mask per family - scratches, brush strokes and blobs as ``models.evaluate`` draws them, and a
torn corner (a corner cut off by a ragged line, 5-15 % of the photo) - and each is filled
through the engine by:

* ``texture`` - ``auto`` with its defaults (today: the network's fill plus texture copied from
  the photo, strength ``DEFAULT_GRAIN``);
* ``grain`` - the same with the random-phase grain of engine/grain.py instead (the earlier default);
* ``network alone`` - grain 0;
* ``PatchMatch`` - PyPatchMatch (``patch_size`` 7) on the whole photo, when it is installed;
* ``band split`` - the network's fill below a Gaussian of 1.5 px plus PatchMatch's above it.

It prints texture distance, hole-SSIM and hole-PSNR per family (models/texture_metrics.py),
then the time the texture step adds: per 512x512 fill, and on a 4000x3000 photo with three
large holes (the network's runs are cached, so the difference is the texture step's).

    .venv/bin/python benchmarks/texture_fill.py [--photos 16] [--grain S] [--no-timing] [--save DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # models/ is not installed; it sits beside this folder
    sys.path.insert(0, str(ROOT))

from models.evaluate import hole_psnr, validation_photos  # noqa: E402
from models.masks import MaskFamily, generate_mask  # noqa: E402
from models.texture_metrics import hole_ssim, mean_of_finite, texture_distance  # noqa: E402
from restorer_app.engine import methods  # noqa: E402
from restorer_app.engine.grain import match_grain  # noqa: E402
from restorer_app.engine.imageio import ImageInfo, RasterImage  # noqa: E402
from restorer_app.engine.pipeline import InpaintRequest, Inpainter  # noqa: E402
from restorer_app.engine.registry import ModelRegistry  # noqa: E402
from restorer_app.engine.runtime import SessionFactory  # noqa: E402

FAMILIES = ("scratches", "strokes", "blobs", "corner")


def torn_corner(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A corner cut off by a ragged line (a random walk across it), 5-15 % of the photo."""
    mask = np.zeros((height, width), np.uint8)
    side = min(height, width)
    for _ in range(20):
        area = 2 * rng.uniform(0.05, 0.15) * height * width  # of the triangle before the tear
        ratio = rng.uniform(0.5, 2.0)
        across = min(np.sqrt(area * ratio), 0.95 * width)
        down = min(area / across, 0.95 * height)
        t = np.linspace(0.0, 1.0, 24)
        line = np.stack([across * (1 - t), down * t], axis=1)
        tear = np.cumsum(rng.normal(0, 0.012 * side, t.size))
        tear += rng.normal(0, 0.006 * side, t.size) - np.linspace(tear[0], tear[-1], t.size)
        line += tear[:, None] * (np.array([down, across]) / np.hypot(across, down))[None]
        polygon = np.vstack([[0.0, 0.0], line])
        corner = int(rng.integers(4))
        if corner in (1, 3):
            polygon[:, 0] = width - 1 - polygon[:, 0]
        if corner in (2, 3):
            polygon[:, 1] = height - 1 - polygon[:, 1]
        mask[:] = 0
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 255)
        if 0.05 <= mask.mean() / 255 <= 0.15:
            break
    return mask


def mask_for(family: str, height: int, width: int, photo_index: int) -> np.ndarray:
    """models.evaluate's first mask of the family for that photo; torn corners seeded alike."""
    if family == "corner":
        return torn_corner(height, width, np.random.default_rng([0, photo_index, 7]))
    f_index = [f.value for f in MaskFamily].index(family)
    return generate_mask(MaskFamily(family), height, width, np.random.default_rng([0, photo_index, f_index, 0]))


class _CachedRuns:
    """Every learned fill here runs the network on the same crops; run each once."""

    def __init__(self) -> None:
        self.original = methods.OnnxFill._run
        self.cache: dict[bytes, np.ndarray] = {}

    def __enter__(self):
        cache, original = self.cache, self.original

        def run(fill, rgb, hole, embedding, latent_rng=None):
            if latent_rng is not None:  # a generation model's run depends on its code: not cached
                return original(fill, rgb, hole, embedding, latent_rng)
            key = rgb.tobytes() + hole.tobytes() + (b"" if embedding is None else embedding.tobytes())
            digest = hashlib.sha1(key).digest()
            if digest not in cache:
                cache[digest] = original(fill, rgb, hole, embedding)
            return cache[digest]

        methods.OnnxFill._run = run
        return self

    def __exit__(self, *exc) -> None:
        methods.OnnxFill._run = self.original


class _GrainInstead:
    """The engine with the random-phase grain where it now copies texture (the earlier default)."""

    def __enter__(self):
        self.original = methods.match_texture
        # The grain has no source patches, so nothing to keep out of copying.
        methods.match_texture = lambda *args, no_source=None, **kwargs: match_grain(*args, **kwargs)
        return self

    def __exit__(self, *exc) -> None:
        methods.match_texture = self.original


def patchmatch_fill(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    try:
        import patchmatch
    except ImportError:
        return None
    patchmatch.set_random_seed(0)
    return patchmatch.inpaint(rgb, mask, patch_size=7)


def band_split(network: np.ndarray, patch: np.ndarray, mask: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    net, pm = network.astype(np.float32), patch.astype(np.float32)
    mixed = cv2.GaussianBlur(net, (0, 0), sigma) + pm - cv2.GaussianBlur(pm, (0, 0), sigma)
    out = network.copy()
    hole = mask > 0
    out[hole] = np.clip(np.rint(mixed[hole]), 0, 255).astype(np.uint8)
    return out


def measure(inpainter: Inpainter, photos, save: Path | None, strength: float | None = None) -> dict:
    asked = InpaintRequest() if strength is None else InpaintRequest(grain=strength)
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for p_index, (name, rgb) in enumerate(photos):
        image = RasterImage(rgb, ImageInfo("PNG", 8))
        for family in FAMILIES:
            mask = mask_for(family, rgb.shape[0], rgb.shape[1], p_index)
            fills = {"texture": inpainter.inpaint(image, mask, asked).pixels}
            with _GrainInstead():
                fills["grain"] = inpainter.inpaint(image, mask, asked).pixels
            fills["network alone"] = inpainter.inpaint(image, mask, InpaintRequest(grain=0.0)).pixels
            if family != "scratches":
                patch = patchmatch_fill(rgb, mask)
                if patch is not None:
                    fills["PatchMatch"] = patch
                    fills["band split"] = band_split(fills["network alone"], patch, mask)
            hole = mask > 0
            for method, result in fills.items():
                rows.setdefault((family, method), []).append(
                    (texture_distance(result, rgb, hole), hole_ssim(result, rgb, hole), hole_psnr(result, rgb, hole)))
            if save is not None:
                outline = rgb.copy()
                outline[cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0] = (255, 0, 255)
                strip = np.hstack([outline] + [fills[m] for m in ("grain", "texture", "network alone")])
                cv2.imwrite(str(save / f"{name}-{family}.png"), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
        print(f"  {name} done", file=sys.stderr)
    return rows


def table(rows: dict, photos: int) -> str:
    lines = [f"{photos} validation photos at 512 px long side, one seeded mask per family each; texture distance "
             "is the mean over the holes wide enough to measure", "",
             "| family | fill | texture distance | hole-SSIM | hole-PSNR (dB) |", "|---|---|---|---|---|"]
    for (family, method), values in rows.items():
        texture = mean_of_finite(t for t, _, _ in values)
        lines.append(f"| {family} | {method} | {'' if texture is None else f'{texture:.3f}'} "
                     f"| {np.mean([s for _, s, _ in values]):.3f} | {np.mean([p for _, _, p in values]):.2f} |")
    return "\n".join(lines)


def timing(inpainter: Inpainter, photos) -> str:
    from restorer_app.engine.texture import match_texture

    lines = []
    # The texture step alone on 512x512 crops with a brush-stroke and a blob hole.
    step = {"texture": match_texture, "grain": match_grain}
    for family in ("strokes", "blobs"):
        spent = {k: [] for k in step}
        for p_index, (_, rgb) in enumerate(photos[:4]):
            crop = cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
            hole = mask_for(family, 512, 512, p_index) > 0
            fill = cv2.inpaint((crop * 255).astype(np.uint8), hole.astype(np.uint8), 3, cv2.INPAINT_NS)
            fill = fill.astype(np.float32) / 255
            for k, fn in step.items():
                started = time.perf_counter()
                fn(crop, fill, hole, 0.6, np.random.default_rng(0))
                spent[k].append(time.perf_counter() - started)
        lines.append(f"512x512 {family}: texture step {1000 * np.median(spent['texture']):.0f} ms, "
                     f"random-phase grain {1000 * np.median(spent['grain']):.0f} ms (median of 4)")
    # A 4000x3000 photo (a validation photo enlarged) with a torn corner and two large blobs.
    rgb = cv2.resize(photos[0][1], (4000, 3000), interpolation=cv2.INTER_CUBIC)
    mask = cv2.resize(torn_corner(300, 400, np.random.default_rng(3)), (4000, 3000), interpolation=cv2.INTER_NEAREST)
    cv2.ellipse(mask, (2600, 1200), (320, 220), 30, 0, 360, 255, -1)
    cv2.circle(mask, (1500, 2200), 260, 255, -1)
    image = RasterImage(rgb, ImageInfo("PNG", 8))
    spent = {}
    for label, request in (("network alone", InpaintRequest(grain=0.0)), ("texture", InpaintRequest())):
        inpainter.inpaint(image, mask, request)  # the first call fills the network cache
        started = time.perf_counter()
        inpainter.inpaint(image, mask, request)
        spent[label] = time.perf_counter() - started
    with _GrainInstead():
        started = time.perf_counter()
        inpainter.inpaint(image, mask, InpaintRequest())
        spent["grain"] = time.perf_counter() - started
    lines.append(f"4000x3000, torn corner + 2 blobs ({np.count_nonzero(mask) / mask.size:.1%} of the photo): the "
                 f"texture step adds {spent['texture'] - spent['network alone']:.2f} s, the random-phase grain "
                 f"{spent['grain'] - spent['network alone']:.2f} s (network runs cached)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "resources" / "models")
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grain", type=float, help="strength of the texture and the grain rows (default: the app's)")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--save", type=Path, help="write outline | grain | texture | network strips here")
    args = parser.parse_args(argv)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    photos = validation_photos(args.data, 512)[:args.photos]
    inpainter = Inpainter(ModelRegistry([args.models_dir], SessionFactory(cpu_threads=args.threads)))
    with _CachedRuns():
        print(table(measure(inpainter, photos, args.save, args.grain), len(photos)))
        if not args.no_timing:
            print()
            print(timing(inpainter, photos))


if __name__ == "__main__":
    main(sys.argv[1:])
