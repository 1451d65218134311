"""Evaluate generated fills through the app's engine on the validation photos.

    python -m models.evaluate_generate [--photos 16] [--long-side 512] [--markdown]

Each validation photo (never trained on) at ``--long-side`` gets one seeded mask per family:
brush ``strokes`` and ``blobs`` (models.masks), torn ``corners`` and torn ``edges`` (strips along
one side), ``large`` losses and ``extended`` canvas (models.gen_masks). Each mask is filled by:

* ``default`` - ``auto`` as shipped with seed 0: the inpainter's most likely fill (other seeds
  give torn edges and large losses to the generation model, engine/pipeline.needs_generation);
* ``inpainter`` - ``auto`` without the generation model (the default before it);
* ``telea`` / ``ns`` - OpenCV; ``patchmatch`` - PyPatchMatch (``patch_size`` 7) when installed;
* ``generation model only`` - the generation model named as the method, seed 0;
* ``best of 4`` - the best of ``auto`` with seeds 0-3 (by hole-PSNR): the most likely fill and
  three generated alternatives.

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
from dataclasses import replace
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
        diversity: dict[str, dict[str, list]] = {f: {"std": [], "changed": [], "mean_vs_inpainter": [],
                                                     "generated": []} for f in FAMILIES}
        steering: list[bool] = []
        line: list[dict] = []
        generator_id = _generation_model(models_dir)
        for index, (name, rgb) in enumerate(validation_photos(data, long_side)[:photos]):
            height, width = rgb.shape[:2]
            image = RasterImage(rgb, ImageInfo("PNG", 8))
            for family in FAMILIES:
                mask = family_mask(family, height, width, index)
                rows = table[family]
                results = [default.inpaint(image, mask, InpaintRequest(seed=s)) for s in SEEDS]
                fills = [r.pixels for r in results]
                # Seed 0 is the inpainter's most likely fill; seed 1 shows what the others use.
                alternative = results[1]
                diversity[family]["generated"].append(
                    alternative.generated_pixels / max(1, alternative.changed_pixels) if alternative.generator else
                    float(alternative.model is not None and alternative.model.kind.value == "generate"))
                before = previous.inpaint(image, mask, InpaintRequest()).pixels
                measured = {"default": scores(fills[0], rgb, mask), "inpainter": scores(before, rgb, mask)}
                for algorithm, flag in (("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)):
                    measured[algorithm] = scores(cv2.inpaint(rgb, (mask > 0).astype(np.uint8), 3, flag), rgb, mask)
                if generator_id is not None:
                    alone = default.inpaint(image, mask, InpaintRequest(method=generator_id)).pixels
                    measured["generation model"] = scores(alone, rgb, mask)
                    depth, at_edge = _depth(mask)
                    line.append({"family": family, "depth": depth, "edge": at_edge,
                                 "psnr": measured["generation model"][0] - measured["inpainter"][0],
                                 "texture": _difference(measured["generation model"][2], measured["inpainter"][2])})
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
        "cases": len(steering), "moved": int(sum(steering))}, "line": line}
    for family in FAMILIES:
        result["families"][family] = {
            method: {"hole_psnr": float(np.mean([v[0] for v in values])),
                     "hole_ssim": float(np.mean([v[1] for v in values])),
                     "texture": mean_of_finite(np.array([v[2] for v in values]))}
            for method, values in table[family].items()}
        result["families"][family]["diversity"] = {k: float(np.mean(v)) for k, v in diversity[family].items()}
    if timing:
        result["timing"] = [time_variations(default, data, size) for size in (512, 1024)]
    return result


def _generation_model(models_dir: Path) -> str | None:
    data = json.loads((models_dir / "manifest.json").read_text(encoding="utf-8"))
    return next((m["id"] for m in data["models"] if m.get("kind") == "generate"), None)


def _depth(mask: np.ndarray) -> tuple[float, bool]:
    """(deepest hole pixel's distance from the photo that is left, whether the hole reaches the
    photo's edge), with the engine's own measure (regions.inner_distance)."""
    from restorer_app.engine.regions import Box, Region, inner_distance

    holes = mask > 0
    height, width = holes.shape
    at_edge = bool(holes[0].any() or holes[-1].any() or holes[:, 0].any() or holes[:, -1].any())
    return float(inner_distance(Region(Box(0, 0, width, height), holes), (height, width)).max()), at_edge


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)) else float(a - b)


def line_table(line: list[dict]) -> str:
    """The generation model against the inpainter, per hole depth and whether it reaches the edge."""
    bins = [(0, 24), (24, 48), (48, 96), (96, 10_000)]
    rows = ["| hole | depth (px) | cases | hole-PSNR, generation − inpainter (dB) | texture distance, generation − inpainter |",
            "|---|---|---|---|---|"]
    for edge in (True, False):
        for low, high in bins:
            cases = [c for c in line if c["edge"] == edge and low <= c["depth"] < high]
            if not cases:
                continue
            textures = [c["texture"] for c in cases if c["texture"] is not None]
            texture = f"{np.mean(textures):+.2f}" if textures else "—"
            rows.append(f"| {'reaches the edge' if edge else 'inside'} | {low}–{high if high < 10_000 else '…'} | "
                        f"{len(cases)} | {np.mean([c['psnr'] for c in cases]):+.2f} | {texture} |")
    return "\n".join(rows)


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
    box = cv2.boundingRect(mask)
    return {"first": float(first), "four": float(total), "size": size,
            "hole_share": float(np.count_nonzero(mask) / mask.size), "hole_box": [int(box[2]), int(box[3])]}


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (min(out.shape[1], 10 + 8 * len(text)), 20), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _crop_around(mask: np.ndarray, margin: int, limit: int) -> tuple[slice, slice]:
    x, y, w, h = cv2.boundingRect(mask)
    height, width = mask.shape
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    return slice(y0, min(y1, y0 + limit)), slice(x0, min(x1, x0 + limit))


def pictures(models_dir: Path, data: Path, folder: Path, long_side: int = 1024) -> list[Path]:
    """Pictures at 100 % for the card: per case the hole (grey), the default's fill (seed 0),
    the inpainter's, and the truth; the variation strips (seeds 0-3) of a torn corner and of an
    extended canvas."""
    from restorer_app.engine.canvas import Margins, extend_canvas
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry

    folder.mkdir(parents=True, exist_ok=True)
    photos = dict(validation_photos(data, long_side))
    default = Inpainter(ModelRegistry([models_dir]))
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        previous = Inpainter(ModelRegistry([without_generation(models_dir, Path(tmp))]))
        cases = [("corner", "lomiri-picosdeeuropa_by_Aitzol_Berasategi", "corners", 1),
                 ("edge", "plasma-EveningGlow", "edges", 2),
                 ("foliage", "gcompris-erase-meerkats", "large", 3)]
        for name, photo, family, index in cases:
            if photo not in photos:
                continue
            rgb = photos[photo]
            mask = family_mask(family, *rgb.shape[:2], index)
            image = RasterImage(rgb, ImageInfo("PNG", 8))
            ys, xs = _crop_around(mask, 48, 420)
            holed = rgb.copy()
            holed[mask > 0] = 128
            fills = [default.inpaint(image, mask, InpaintRequest(seed=s)).pixels for s in SEEDS]
            before = previous.inpaint(image, mask, InpaintRequest()).pixels
            row = [_label(holed[ys, xs], "hole"), _label(fills[0][ys, xs], "default (seed 0)"),
                   _label(before[ys, xs], "inpainter only"), _label(rgb[ys, xs], "truth")]
            strip = [_label(f[ys, xs], f"seed {s}") for s, f in zip(SEEDS, fills)]
            picture = np.vstack([np.hstack(row), np.hstack(strip)])
            path = folder / f"{name}.jpg"
            cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 72])
            written.append(path)
        rgb = photos.get("lxqt-Valendas")
        if rgb is not None:
            rgb = np.ascontiguousarray(rgb[:, : rgb.shape[1] * 3 // 4])
            margins = Margins(0, rgb.shape[1] // 4, 0, 0)
            canvas, band = extend_canvas(RasterImage(rgb, ImageInfo("PNG", 8)), margins)
            request = default.for_extension(InpaintRequest())
            fills = [default.inpaint(canvas, band, replace(request, seed=s)).pixels for s in SEEDS]
            ys, xs = slice(0, canvas.height), slice(max(0, rgb.shape[1] - 160), canvas.width)
            strip = [_label(f[ys, xs], f"seed {s}") for s, f in zip(SEEDS, fills)]
            path = folder / "extended-canvas.jpg"
            picture = np.hstack(strip)
            cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 72])
            written.append(path)
    return written


def markdown(result: dict) -> str:
    lines = [f"On {result['photos']} validation photos at {result['long_side']} px, one mask per family "
             "(`python -m models.evaluate_generate`). hole-PSNR (dB) / hole-SSIM / texture distance:", "",
             "| family | default | inpainter only | generation model only | Telea | NS | PatchMatch | best of 4 |",
             "|---|---|---|---|---|---|---|---|"]
    for family, methods in result["families"].items():
        cells = []
        for method in ("default", "inpainter", "generation model", "telea", "ns", "patchmatch", "best of 4"):
            m = methods.get(method)
            cells.append("—" if m is None else f"{m['hole_psnr']:.2f} / {m['hole_ssim']:.3f} / "
                                               f"{m['texture']:.2f}" if m["texture"] is not None else
                         f"{m['hole_psnr']:.2f} / {m['hole_ssim']:.3f} / —")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    lines += ["", "Diversity over seeds 0-3 of `auto` (the most likely fill and three alternatives):", "",
              "| family | hole given to the generation model (seeds 1-3) | per-pixel std (levels) | hole changed > 10 levels "
              "| mean seed − inpainter (dB) |", "|---|---|---|---|---|"]
    for family, methods in result["families"].items():
        d = methods["diversity"]
        lines.append(f"| {family} | {100 * d['generated']:.0f} % | {d['std']:.1f} | {100 * d['changed']:.0f} % "
                     f"| {d['mean_vs_inpainter']:+.2f} |")
    if result.get("line"):
        lines += ["", "Where `auto`'s line is: the generation model alone against the inpainter alone, every hole "
                      "of every family, by the hole's depth (from the photo that is left):", "", line_table(result["line"])]
    s = result["steering"]
    lines += ["", f"Descriptions: \"{PROMPTS[0]}\" gave a bluer fill than \"{PROMPTS[1]}\" in {s['moved']} of "
                  f"{s['cases']} corner, edge and extended-canvas holes."]
    for t in result.get("timing", []):
        lines.append(f"Speed: 4 variations of a torn corner ({t['hole_box'][0]}x{t['hole_box'][1]} px, "
                     f"{100 * t['hole_share']:.0f} % of a {t['size']}x{t['size']} photo) {t['four']:.2f} s, "
                     f"the first {t['first']:.2f} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate_generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("resources/models"))
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--long-side", type=int, default=512)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--pictures", type=Path, help="write the card's pictures into this folder and stop")
    args = parser.parse_args(argv)
    if args.pictures:
        for path in pictures(args.models, args.data, args.pictures):
            print(path)
        return
    result = evaluate(args.models, args.data, args.photos, args.long_side, timing=not args.no_timing)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main(sys.argv[1:])
