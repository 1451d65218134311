"""Measure the restoration model on validation photos degraded by :mod:`models.degrade`.

``python -m models.evaluate_restore [--models resources/models] [--data data/photos]
[--card resources/models/MODEL_CARD_restorer-restore.md] [--pictures DIR]``

Every validation photo is degraded once per set - noise, JPEG, blur, faded, the old-print mix -
and kept clean once. The photo is restored through the engine exactly as ``restorer restore``
does with every strength on ``auto``, with the colour step off (the app's default) and on, and PSNR / SSIM (luma, 11x11 Gaussian window) against the
truth are reported for the output, for the degraded input, and for a classical anchor per set:
OpenCV's non-local-means denoiser (its strength from the true noise level: the anchor's best
case), a bilateral filter for JPEG, unsharp masking for blur, per-channel auto levels for fading;
for the mix, the best of them. The truth is the photo before it was degraded - for the mix, before
its fading too, which the colour step is there to undo. On the clean set the truth is the input
itself: do no harm.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from .degrade import NOISE_UNIT, degrade
from .evaluate_detect import validation_photos

SETS = ("noise", "jpeg", "blur", "fade", "mix", "clean")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    blur = lambda v: cv2.GaussianBlur(v, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float(np.mean(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def auto_levels(rgb: np.ndarray) -> np.ndarray:
    out = np.empty_like(rgb)
    for c in range(3):
        lo, hi = np.percentile(rgb[:, :, c], (0.5, 99.5))
        out[:, :, c] = np.clip((rgb[:, :, c].astype(np.float32) - lo) * 255.0 / max(1.0, hi - lo), 0, 255).astype(np.uint8)
    return out


def anchors(name: str, image: np.ndarray, levels: np.ndarray) -> dict[str, np.ndarray]:
    """The classical answers for a set (all of them for the mix)."""
    out = {}
    if name in ("noise", "mix"):
        h = max(3.0, float(levels[0]) * NOISE_UNIT * 255 * 1.0)
        out["non-local means"] = cv2.fastNlMeansDenoisingColored(image, None, h, h, 7, 21)
    if name in ("jpeg", "mix"):
        out["bilateral"] = cv2.bilateralFilter(image, 5, 25, 5)
    if name in ("blur", "mix"):
        soft = cv2.GaussianBlur(image, (0, 0), 1.5)
        out["unsharp mask"] = cv2.addWeighted(image, 1.8, soft, -0.8, 0)
    if name in ("fade", "mix"):
        out["auto levels"] = auto_levels(image)
    if name == "clean":
        out["unchanged"] = image
    return out


def evaluate(models_dir: Path, data: Path, model_id: str | None = None, long_side: int = 512,
             pictures: Path | None = None, seed: int = 2025) -> dict:
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.restoration import PhotoRestorer, RestoreOptions, open_restorer, restore
    from restorer_app.engine.runtime import Device

    model = open_restorer(ModelRegistry([models_dir]), Device.CPU, model_id)
    restorer = PhotoRestorer(model)
    photos = validation_photos(data, long_side)
    result: dict = {"model": model.entry.id, "photos": [p[0] for p in photos], "long_side": long_side, "sets": {}}
    seconds, pixels = 0.0, 0
    for s, name in enumerate(SETS):
        rows = {"output": [], "no_colour": [], "input": [], "anchor": [], "anchor_name": []}
        for p, (ident, rgb) in enumerate(photos):
            sample = degrade(rgb, np.random.default_rng([seed, s, p]), only=None if name == "clean" else name,
                             clean=True if name == "clean" else None)
            truth = sample.image if name == "clean" else sample.original  # clean: do no harm to the input
            started = time.perf_counter()
            plain, restored = restore_both(restorer, sample.image)
            seconds += time.perf_counter() - started
            pixels += rgb.shape[0] * rgb.shape[1]
            rows["no_colour"].append((psnr(plain, truth), ssim(plain, truth)))
            scored = {k: (psnr(v, truth), ssim(v, truth)) for k, v in anchors(name, sample.image, sample.levels).items()}
            best = max(scored, key=lambda k: scored[k][0])
            rows["output"].append((psnr(restored, truth), ssim(restored, truth)))
            rows["input"].append((psnr(sample.image, truth), ssim(sample.image, truth)))
            rows["anchor"].append(scored[best])
            rows["anchor_name"].append(best)
            if pictures is not None and p < 1:
                write_picture(pictures / f"{name}-{ident}.jpg", sample.image, restored, truth)
        mean = lambda key, i: float(np.mean([r[i] for r in rows[key]]))  # noqa: E731
        result["sets"][name] = {key: {"psnr": mean(key, 0), "ssim": mean(key, 1)} for key in ("output", "no_colour", "input", "anchor")}
        result["sets"][name]["anchor_name"] = max(set(rows["anchor_name"]), key=rows["anchor_name"].count)
    result["megapixels_per_second"] = pixels / 1e6 / seconds
    if pictures is not None:  # the app's bundled damaged portrait: no truth, restored as a user would
        from .evaluate_detect import bundled_sample

        sample = bundled_sample()
        if sample is not None:
            restored = restore(RasterImage(sample[0], ImageInfo("JPEG", 8)), model, RestoreOptions()).pixels
            write_picture(pictures / "sample-damaged_portrait.jpg", sample[0], restored)
    return result


def restore_both(restorer, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` restored on auto with the colour step off and on, the network run once: the
    colour step is the engine's own (its curves from the restored photo's histograms, applied as
    lookup tables), so the second equals ``restore`` with the colour step on."""
    from restorer_app.engine.restoration import RestoreOptions, apply_curves

    plain = restorer.restore(image, RestoreOptions(colour=False)).pixels
    histograms = [np.bincount(plain[:, :, c].ravel(), minlength=256) for c in range(3)]
    coloured = plain.copy()
    apply_curves(coloured, restorer.colour_curves(histograms, 255.0), histograms)
    return plain, coloured


def write_picture(path: Path, degraded: np.ndarray, restored: np.ndarray, truth: np.ndarray | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet = np.concatenate([degraded, restored] + ([truth] if truth is not None else []), axis=1)
    scale = min(1.0, 1200 / sheet.shape[1])
    sheet = cv2.resize(sheet, (round(sheet.shape[1] * scale), round(sheet.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])


def markdown(result: dict) -> str:
    lines = [f"Validation photos ({len(result['photos'])}, long side {result['long_side']} px), restored through the "
             "engine with every strength on auto: with the colour step off (the app's default) and on "
             "(`--colour auto`). PSNR in dB / SSIM (luma); the differences are PSNR against the best "
             "classical anchor.", "",
             "| set | colour off (default) | colour auto | degraded input | best classical anchor | anchor | "
             "off − anchor | auto − anchor |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in result["sets"].items():
        o, n, i, a = s["output"], s["no_colour"], s["input"], s["anchor"]
        lines.append(f"| {name} | **{n['psnr']:.2f}** / {n['ssim']:.3f} | {o['psnr']:.2f} / {o['ssim']:.3f} | "
                     f"{i['psnr']:.2f} / {i['ssim']:.3f} | {a['psnr']:.2f} / {a['ssim']:.3f} | {s['anchor_name']} | "
                     f"{n['psnr'] - a['psnr']:+.2f} dB | {o['psnr'] - a['psnr']:+.2f} dB |")
    lines += ["", f"Speed in this evaluation: {result['megapixels_per_second']:.2f} MP/s (CPU, through the engine, "
                  "colour on)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate_restore", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("resources/models"))
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--id", default=None)
    parser.add_argument("--long-side", type=int, default=512)
    parser.add_argument("--pictures", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--card", type=Path, help="(re)write this model card with the numbers")
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/restore/last.pt"),
                        help="the main training checkpoint the card describes (estimator.pt and final.pt "
                             "beside it give the later stages)")
    args = parser.parse_args(argv)
    result = evaluate(args.models, args.data, args.id, args.long_side, args.pictures)
    text = markdown(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.card:
        import torch

        from .restore_card import write_restore_card

        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        folder = args.checkpoint.parent
        estimator = torch.load(folder / "estimator.pt", map_location="cpu", weights_only=False) \
            if (folder / "estimator.pt").is_file() else None
        final = torch.load(folder / "final.pt", map_location="cpu", weights_only=False) \
            if (folder / "final.pt").is_file() else state
        parameters = sum(v.numel() for v in final["model"].values())
        model_file = args.models / f"{result['model']}.onnx"
        write_restore_card(args.card, state, args.data, text, args.pictures.as_posix() if args.pictures else None,
                           parameters, model_file.stat().st_size / 1e6, estimator, final.get("tone"))
        print(f"wrote {args.card}")


if __name__ == "__main__":
    main(sys.argv[1:])
