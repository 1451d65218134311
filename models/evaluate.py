"""Score an exported model through Restorer's own engine against Telea and Navier-Stokes.

``python -m models.evaluate --model restorer-inpaint [--card]`` takes the validation photos
(never trained on), shrinks them so the long side is 512 pixels (the scale of the training
crops), draws seeded masks of each family, fills them with Telea, Navier-Stokes and the model
through :class:`restorer_app.engine.pipeline.Inpainter` (the exact code path of the app: region
crops, pre-fill, padding, clipping, pasting), and reports per family:

* hole-PSNR (dB) - pixel fidelity inside the hole (it rewards the smooth mean of what could be there);
* hole-SSIM and texture distance - luma SSIM over the hole's pixels, and how far the fill's
  gradient, Laplacian and orientation statistics are from the photo's (0 = the photo's own;
  :mod:`models.texture_metrics`);
* SSIM (hole + rim) - scikit-image's RGB SSIM (7x7 window) averaged over the hole and a 3-pixel rim;
* sharpness - detail energy inside the fill divided by that of the original
  (1.0 = as detailed as the photo; classical fills sit around 0.2-0.3);

plus the median time of one 512x512 model run on 2 CPU threads, and how well a description
steers the fill: the same strokes and blobs holes are filled with the prompts "bright red" and
"dark blue" through the app's own prompt path, and a case counts when the red fill's mean
colour is redder (R - B larger) *and* brighter than the blue fill's. ``--card`` writes the table
into the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from restorer_app.engine.pipeline import DESCRIBED_WIDTH, DESCRIPTION_RAMP

from .captions import describe_pixels
from .data import read_listing
from .masks import MaskFamily, generate_mask
from .texture_metrics import hole_ssim, mean_of_finite, texture_distance

CLASSICAL = ("telea", "ns")


@dataclass(frozen=True)
class Scores:
    psnr: float
    ssim: float  # RGB, hole and rim
    sharpness: float
    hole_ssim: float
    texture: float  # NaN where the hole is too thin to measure


def hole_psnr(result: np.ndarray, original: np.ndarray, hole: np.ndarray) -> float:
    diff = (result.astype(np.float64) - original.astype(np.float64)) / 255.0
    mse = float((diff[hole] ** 2).mean())
    return 10.0 * np.log10(1.0 / max(mse, 1e-10))


def detail_energy(rgb: np.ndarray, region: np.ndarray) -> float:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 1.5)
    return float((detail[region] ** 2).mean())


def score(result: np.ndarray, original: np.ndarray, mask: np.ndarray) -> Scores:
    from skimage.metrics import structural_similarity

    hole = mask > 0
    _, ssim_map = structural_similarity(original, result, channel_axis=2, data_range=255, full=True)
    rim = cv2.dilate(mask, np.ones((7, 7), np.uint8)) > 0
    ssim = float(ssim_map.mean(axis=2)[rim].mean())
    sharp = detail_energy(result, hole) / max(detail_energy(original, hole), 1e-12)
    return Scores(hole_psnr(result, original, hole), ssim, sharp, hole_ssim(result, original, hole),
                  texture_distance(result, original, hole))


def validation_photos(data: Path, long_side: int) -> list[tuple[str, np.ndarray]]:
    photos = []
    for record in read_listing(data, "val"):
        rgb = cv2.cvtColor(cv2.imread(str(data / record.file)), cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        scale = long_side / max(h, w)
        if scale < 1.0:
            rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        photos.append((record.id, rgb))
    return photos


STEER_PROMPTS = ("bright red", "dark blue")
STEER_FAMILIES = (MaskFamily.STROKES, MaskFamily.BLOBS)


def hole_colour(rgb: np.ndarray, hole: np.ndarray) -> tuple[float, float]:
    """(mean R - B, mean luma) of the hole, both in 0-255 units."""
    pixels = rgb[hole].astype(np.float64)
    return float((pixels[:, 0] - pixels[:, 2]).mean()), float((pixels @ np.array([0.299, 0.587, 0.114])).mean())


def steering(inpainter, image, mask: np.ndarray, model_id: str) -> dict:
    """Fill one hole with each steering prompt and without one; report the colour moves."""
    from restorer_app.engine.pipeline import InpaintRequest

    hole = mask > 0
    colours = {}
    for prompt in ("", *STEER_PROMPTS):
        result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, prompt=prompt)).pixels
        colours[prompt] = hole_colour(result, hole)
    (red_rb, red_luma), (blue_rb, blue_luma) = colours[STEER_PROMPTS[0]], colours[STEER_PROMPTS[1]]
    none_rb, none_luma = colours[""]
    return {"ok": red_rb > blue_rb and red_luma > blue_luma, "redder": red_rb - blue_rb,
            "brighter": red_luma - blue_luma, "red_vs_none": red_rb - none_rb, "blue_vs_none": none_rb - blue_rb}


def speed(registry, model_id: str, size: int = 512, runs: int = 10) -> float:
    """Median seconds of one model run at ``size`` x ``size`` (session already warm)."""
    from restorer_app.engine.runtime import Device

    loaded = registry.open(model_id, Device.CPU)  # the speed goal is about CPUs
    feeds = {"image": np.random.rand(1, 3, size, size).astype(np.float32),
             "mask": np.zeros((1, 1, size, size), np.float32)}
    feeds["mask"][:, :, size // 4: size // 2, size // 4: size // 2] = 1
    if loaded.entry.uses_text:
        feeds["text"] = np.zeros((1, loaded.entry.text_embedding_size), np.float32)
    for _ in range(2):
        loaded.session.run(["output"], feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        loaded.session.run(["output"], feeds)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def evaluate(models_dir: Path, model_id: str, data: Path, long_side: int = 512, masks_per_photo: int = 3,
             seed: int = 0, threads: int = 2, with_captions: bool = True) -> dict:
    from restorer_app.engine.blend import seam_score
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.runtime import Device, SessionFactory

    registry = ModelRegistry([models_dir], SessionFactory(cpu_threads=threads))
    inpainter = Inpainter(registry)
    encoder = None
    if with_captions and registry.get(model_id).uses_text:
        try:
            from restorer_app.engine.text import TextEncoder

            encoder = TextEncoder.from_registry(registry, device=Device.CPU)
        except Exception as exc:  # no encoder installed: evaluate without the caption row
            print(f"(no caption row: {exc})", file=sys.stderr)
    matched = f"{model_id} (with colour matching)"
    smooth = f"{model_id} (grain off)"
    quick = f"{model_id} (quick: one run)"
    methods = list(CLASSICAL) + [model_id, smooth, quick, matched] + ([f"{model_id}+caption"] if encoder else [])
    totals = {f.value: {m: [] for m in methods} for f in MaskFamily}
    seams = {f.value: {m: [] for m in ["original", *methods]} for f in MaskFamily}
    photos = validation_photos(data, long_side)
    steer: list[dict] = []
    for p_index, (name, rgb) in enumerate(photos):
        image = RasterImage(rgb, ImageInfo("PNG", 8))
        for f_index, family in enumerate(MaskFamily):
            for k in range(masks_per_photo):
                rng = np.random.default_rng([seed, p_index, f_index, k])
                mask = generate_mask(family, rgb.shape[0], rgb.shape[1], rng)
                seams[family.value]["original"].append(seam_score(rgb, mask > 0))
                for method in methods:
                    if method.endswith("+caption"):  # through the app's prompt path, like a user
                        caption = describe_pixels(rgb.astype(np.float32) / 255.0, mask > 0)
                        result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, prompt=caption)).pixels
                    elif method == matched:
                        result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, harmonize=True)).pixels
                    elif method == smooth:
                        result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, grain=0.0)).pixels
                    elif method == quick:
                        result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, quick=True)).pixels
                    else:
                        result = inpainter.inpaint(image, mask, InpaintRequest(method=method)).pixels
                    totals[family.value][method].append(score(result, rgb, mask))
                    seams[family.value][method].append(seam_score(result, mask > 0))
                if encoder and family in STEER_FAMILIES:
                    steer.append(steering(inpainter, image, mask, model_id))
        print(f"  {name} done", file=sys.stderr)
    summary = {
        family: {m: {"psnr": float(np.mean([s.psnr for s in v])), "ssim": float(np.mean([s.ssim for s in v])),
                     "sharpness": float(np.mean([s.sharpness for s in v])),
                     "hole_ssim": float(np.mean([s.hole_ssim for s in v])),
                     "texture": mean_of_finite(s.texture for s in v),
                     "texture_count": sum(bool(np.isfinite(s.texture)) for s in v),
                     "seam": float(np.mean(seams[family][m])), "count": len(v)}
                 for m, v in per_method.items()}
        for family, per_method in totals.items()
    }
    for family in summary:  # the undamaged photo's own edge statistic: what "seamless" scores
        summary[family]["original"] = {"seam": float(np.mean(seams[family]["original"]))}
    return {"model": model_id, "photos": [n for n, _ in photos], "long_side": long_side,
            "masks_per_photo": masks_per_photo, "seed": seed, "families": summary,
            "steering": ({"cases": len(steer), "moved": sum(c["ok"] for c in steer),
                          **{k: float(np.mean([c[k] for c in steer])) for k in ("redder", "brighter", "red_vs_none", "blue_vs_none")}}
                         if steer else None),
            "median_seconds_512": speed(registry, model_id), "threads": threads}


def markdown(result: dict) -> str:
    from restorer_app.engine.pipeline import DEFAULT_GRAIN

    model = result["model"]
    lines = [
        f"Validation photos ({len(result['photos'])}, never trained on): {', '.join(result['photos'])}; long side "
        f"{result['long_side']} px, {result['masks_per_photo']} seeded masks per photo and family (seed {result['seed']}), "
        "run through Restorer's engine.",
        "",
        "| family | method | hole-PSNR (dB) | gain vs best classical | hole-SSIM | texture distance "
        "| SSIM (hole + rim) | sharpness | seam |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for family, per_method in result["families"].items():
        best = max(per_method[m]["psnr"] for m in CLASSICAL)
        for method, s in per_method.items():
            if method == "original":
                lines.append(f"| {family} | (undamaged photo) | | | | | | | {s['seam']:.2f} |")
                continue
            gain = "" if method in CLASSICAL else f"{s['psnr'] - best:+.2f}"
            label = {"telea": "Telea", "ns": "Navier-Stokes"}.get(method, method)
            lines.append(f"| {family} | {label} | {s['psnr']:.2f} | {gain} | {_number(s.get('hole_ssim'), 3)} "
                         f"| {_number(s.get('texture'), 2)} | {s['ssim']:.3f} | {s['sharpness']:.2f} | {s['seam']:.2f} |")
    lines += ["", f"Median time of one 512x512 run on {result['threads']} CPU threads (ONNX Runtime): "
                  f"{1000 * result['median_seconds_512']:.0f} ms.",
              "", "hole-SSIM: luma SSIM (11x11 Gaussian window, sigma 1.5) averaged over the hole's pixels; blur "
                  "loses its contrast term, noise its structure term. Texture distance: for the hole's pixels "
                  "(eroded by 1 px), the distributions of log gradient magnitude, log |Laplacian| and "
                  "structure-tensor coherence, each compared with the photo's by the Wasserstein distance over "
                  "its 1-99 % quantiles in units of the photo's spread, then averaged (`models/texture_metrics.py`); "
                  "0 is the photo's own texture, the photo shifted by 9 px scores about 0.02-0.05 on strokes and "
                  "blobs. On scratches only their widest parts survive the erosion, so the number says little "
                  "there; a hole with fewer than 20 pixels left is not counted. "
                  "SSIM (hole + rim): scikit-image's RGB SSIM (7x7 window) over the hole and a 3 px rim.",
              "", "Seam: the mean colour step across the hole's edge divided by the mean step between "
                  "neighbouring pixels just outside it (`restorer_app.engine.blend.seam_score`); the undamaged "
                  "photo's value is what a seamless fill scores. \"With colour matching\" is the same model with "
                  "the engine's edge colour matching turned on (off by default).",
              "", f"`{model}` is the app's default: the model's fill with its fine band copied from the photo at "
                  f"{DEFAULT_GRAIN:g} (`restorer_app/engine/texture.py`: patches nearby that fit the network's coarse "
                  "band, up to that share of the surroundings' detail energy; grain matching where there is too "
                  "little photo around); \"grain off\" is the network's own output. Both average the full-size run with the run on the mirrored crop "
                  "(`engine/methods.py: MIRROR_ENSEMBLE`); \"quick\" is the app's default without that second "
                  "run (the *Quick fill* switch, `--quick`).",
              "", f"`{model}+caption` is given, as its description, a caption generated from the true hole pixels "
                  "(what a good description can add); as in the app, descriptions apply only to areas wider than "
                  f"about {DESCRIBED_WIDTH} px (strokes, scratches and spots ignore them), and the described fill "
                  f"takes over from the plain one over the first {DESCRIPTION_RAMP:g} px in from a hole's edge."]
    steer = result.get("steering")
    if steer:
        lines += ["", f"Steering (strokes and blobs holes, prompts \"{STEER_PROMPTS[0]}\" vs \"{STEER_PROMPTS[1]}\" through the "
                      f"app's prompt path): the red fill is redder and brighter than the blue fill in {steer['moved']} of "
                      f"{steer['cases']} cases ({100 * steer['moved'] / steer['cases']:.0f} %). Mean differences (0-255): "
                      f"R-B {steer['redder']:+.1f}, luma {steer['brighter']:+.1f}; against no description the red prompt "
                      f"moves R-B by {steer['red_vs_none']:+.1f} and the blue prompt by {-steer['blue_vs_none']:+.1f}."]
    return "\n".join(lines)


def _number(value: float | None, digits: int) -> str:
    """A table cell; empty where nothing was measured (too thin holes, or an older result file)."""
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, default=Path("resources/models"))
    parser.add_argument("--model", default="restorer-inpaint")
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--long-side", type=int, default=512)
    parser.add_argument("--masks-per-photo", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-captions", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--card", action="store_true", help="write the table into the model's card")
    args = parser.parse_args(argv)
    result = evaluate(args.models_dir, args.model, args.data, args.long_side, args.masks_per_photo, args.seed,
                      args.threads, not args.no_captions)
    table = markdown(result)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.card:
        from restorer_app.engine.registry import ModelRegistry

        from .card import replace_evaluation

        entry = ModelRegistry([args.models_dir]).get(args.model)
        if entry.card is None:
            raise SystemExit(f"Model '{args.model}' has no card in its manifest entry.")
        replace_evaluation(entry.card, table)
        print(f"updated {entry.card}")


if __name__ == "__main__":
    main(sys.argv[1:])
