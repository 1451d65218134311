"""Evaluate generated fills through the app's engine on the validation photos.

    python -m models.evaluate_generate [--photos 16] [--long-side 512] [--markdown]

Each validation photo (never trained on) at ``--long-side`` gets one seeded mask per family:
brush ``strokes`` and ``blobs`` (models.masks), torn ``corners`` and torn ``edges`` (strips along
one side), ``large`` losses and ``extended`` canvas (models.gen_masks). Each mask is filled by:

* ``default`` - ``auto`` as shipped: the inpainter, and the generation model for torn edges
  and large losses (engine/pipeline.needs_generation); seed 0;
* ``inpainter`` - ``auto`` without the generation model (the default before it);
* ``telea`` / ``ns`` - OpenCV; ``patchmatch`` - PyPatchMatch (``patch_size`` 7) when installed;
* ``best of 4`` - the best of ``default`` with seeds 0-3 (by hole-PSNR).

Printed per family: hole-PSNR, hole-SSIM and texture distance (models/texture_metrics.py); the
diversity of the four seeds (mean per-pixel standard deviation inside the hole and the share of
hole pixels whose range over the seeds exceeds 10 levels; the mean seed's hole-PSNR minus
``inpainter``'s); steering ("blue sky" against "green forest" on corners, edges and extended
canvas: the share of cases whose fill is bluer with the first and greener with the second);
and the time for 4 variations of a 512 x 512 photo with a torn corner, and for the first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from .evaluate import hole_psnr, validation_photos
from .gen_masks import GenerationFamily, generation_mask
from .masks import MaskFamily, generate_mask
from .texture_metrics import hole_ssim, mean_of_finite, texture_distance

FAMILIES = ("strokes", "blobs", "corners", "edges", "large", "extended")
GENERATED = ("corners", "edges", "large", "extended")
SEEDS = (0, 1, 2, 3)
PROMPTS = ("blue sky", "green forest")


def family_mask(family: str, height: int, width: int, index: int) -> np.ndarray:
    rng = np.random.default_rng([11, index, FAMILIES.index(family)])
    if family in ("strokes", "blobs"):
        return generate_mask(MaskFamily(family), height, width, rng)
    if family == "corners":
        return generation_mask(GenerationFamily.BORDER, height, width, rng, shape="corner")
    if family == "edges":
        return generation_mask(GenerationFamily.BORDER, height, width, rng, shape="strip")
    if family == "large":
        return generation_mask(GenerationFamily.LARGE, height, width, rng)
    return generation_mask(GenerationFamily.EXTEND, height, width, rng)


def without_generation(models_dir: Path, folder: Path) -> Path:
    """A copy of ``models_dir``'s manifest without ``generate`` models, its files linked."""
    data = json.loads((models_dir / "manifest.json").read_text(encoding="utf-8"))
    data["models"] = [m for m in data["models"] if m.get("kind") != "generate"]
    for entry in data["models"]:
        for name in (entry.get("file"), entry.get("card"), entry.get("tokenizer")):
            if name and (models_dir / name).exists() and not (folder / name).exists():
                (folder / name).symlink_to((models_dir / name).resolve())
    (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def patchmatch_fill(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    try:
        import patchmatch
    except ImportError:
        return None
    patchmatch.set_random_seed(0)
    return patchmatch.inpaint(rgb, mask, patch_size=7)


def scores(fill: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    hole = mask > 0
    return hole_psnr(fill, truth, hole), hole_ssim(fill, truth, hole), texture_distance(fill, truth, hole)


def evaluate(models_dir: Path, data: Path, photos: int, long_side: int, timing: bool = True) -> dict:
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.runtime import SessionFactory

    factory = SessionFactory()
    default = Inpainter(ModelRegistry([models_dir], factory))
    with tempfile.TemporaryDirectory() as tmp:
        previous = Inpainter(ModelRegistry([without_generation(models_dir, Path(tmp))], factory))
        table: dict[str, dict[str, list]] = {f: {} for f in FAMILIES}
        diversity: dict[str, dict[str, list]] = {f: {"std": [], "changed": [], "mean_vs_inpainter": []}
                                                 for f in FAMILIES}
        steering: list[bool] = []
        for index, (name, rgb) in enumerate(validation_photos(data, long_side)[:photos]):
            height, width = rgb.shape[:2]
            image = RasterImage(rgb, ImageInfo("PNG", 8))
            for family in FAMILIES:
                mask = family_mask(family, height, width, index)
                rows = table[family]
                fills = [default.inpaint(image, mask, InpaintRequest(seed=s)).pixels for s in SEEDS]
                before = previous.inpaint(image, mask, InpaintRequest()).pixels
                measured = {"default": scores(fills[0], rgb, mask), "inpainter": scores(before, rgb, mask)}
                for algorithm, flag in (("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)):
                    measured[algorithm] = scores(cv2.inpaint(rgb, (mask > 0).astype(np.uint8), 3, flag), rgb, mask)
                patched = patchmatch_fill(rgb, mask)
                if patched is not None:
                    measured["patchmatch"] = scores(patched, rgb, mask)
                per_seed = [scores(f, rgb, mask) for f in fills]
                measured["best of 4"] = max(per_seed, key=lambda s: s[0])
                for method, values in measured.items():
                    rows.setdefault(method, []).append(values)
                hole = mask > 0
                stack = np.stack([f[hole].astype(np.float64) for f in fills])
                diversity[family]["std"].append(float(stack.std(axis=0).mean()))
                diversity[family]["changed"].append(float(((stack.max(0) - stack.min(0)).max(axis=1) > 10).mean()))
                diversity[family]["mean_vs_inpainter"].append(float(np.mean([s[0] for s in per_seed])
                                                                    - measured["inpainter"][0]))
                if family in ("corners", "edges", "extended"):
                    sky, forest = (default.inpaint(image, mask, InpaintRequest(prompt=p)).pixels[hole].astype(np.float64)
                                   for p in PROMPTS)
                    bluer = (sky[:, 2] - sky[:, 1]).mean() > (forest[:, 2] - forest[:, 1]).mean()
                    steering.append(bool(bluer))
            print(f"  {index + 1}/{photos} {name}", file=sys.stderr)
    result = {"photos": photos, "long_side": long_side, "families": {}, "steering": {
        "cases": len(steering), "moved": int(sum(steering))}}
    for family in FAMILIES:
        result["families"][family] = {
            method: {"hole_psnr": float(np.mean([v[0] for v in values])),
                     "hole_ssim": float(np.mean([v[1] for v in values])),
                     "texture": mean_of_finite(np.array([v[2] for v in values]))}
            for method, values in table[family].items()}
        result["families"][family]["diversity"] = {k: float(np.mean(v)) for k, v in diversity[family].items()}
    if timing:
        result["timing"] = time_variations(default, data)
    return result


def time_variations(inpainter, data: Path, size: int = 512) -> dict:
    """Seconds for 4 variations of a torn corner on a ``size`` x ``size`` photo, and for the first."""
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest

    _, rgb = validation_photos(data, 2 * size)[0]
    rgb = np.ascontiguousarray(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))
    image = RasterImage(rgb, ImageInfo("PNG", 8))
    mask = generation_mask(GenerationFamily.BORDER, size, size, np.random.default_rng(3), shape="corner")
    inpainter.inpaint(image, mask, InpaintRequest())  # sessions loaded
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        firsts = []
        for seed in SEEDS:
            inpainter.inpaint(image, mask, InpaintRequest(seed=seed))
            firsts.append(time.perf_counter() - started)
        runs.append((firsts[0], firsts[-1]))
    first, total = np.median(np.array(runs), axis=0)
    return {"first": float(first), "four": float(total), "size": size,
            "hole_share": float(np.count_nonzero(mask) / mask.size)}


def markdown(result: dict) -> str:
    lines = [f"On {result['photos']} validation photos at {result['long_side']} px, one mask per family "
             "(`python -m models.evaluate_generate`). hole-PSNR (dB) / hole-SSIM / texture distance:", "",
             "| family | default | inpainter only | Telea | NS | PatchMatch | best of 4 |",
             "|---|---|---|---|---|---|---|"]
    for family, methods in result["families"].items():
        cells = []
        for method in ("default", "inpainter", "telea", "ns", "patchmatch", "best of 4"):
            m = methods.get(method)
            cells.append("—" if m is None else f"{m['hole_psnr']:.2f} / {m['hole_ssim']:.3f} / "
                                               f"{m['texture']:.2f}" if m["texture"] is not None else
                         f"{m['hole_psnr']:.2f} / {m['hole_ssim']:.3f} / —")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    lines += ["", "Diversity over seeds 0-3 (the default):", "",
              "| family | per-pixel std (levels) | hole changed > 10 levels | mean seed − inpainter (dB) |",
              "|---|---|---|---|"]
    for family, methods in result["families"].items():
        d = methods["diversity"]
        lines.append(f"| {family} | {d['std']:.1f} | {100 * d['changed']:.0f} % | {d['mean_vs_inpainter']:+.2f} |")
    s = result["steering"]
    lines += ["", f"Descriptions: \"{PROMPTS[0]}\" gave a bluer fill than \"{PROMPTS[1]}\" in {s['moved']} of "
                  f"{s['cases']} corner, edge and extended-canvas holes."]
    if "timing" in result:
        t = result["timing"]
        lines.append(f"Speed: 4 variations of a {t['size']}x{t['size']} photo with a torn corner "
                     f"({100 * t['hole_share']:.0f} % of it) {t['four']:.2f} s, the first {t['first']:.2f} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate_generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("resources/models"))
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--long-side", type=int, default=512)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    result = evaluate(args.models, args.data, args.photos, args.long_side, timing=not args.no_timing)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main(sys.argv[1:])
