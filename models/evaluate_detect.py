"""Measure the damage detector on validation photos aged by :mod:`models.damage`.

``python -m models.evaluate_detect [--models resources/models] [--data data/photos]
[--card resources/models/MODEL_CARD_restorer-detect.md] [--pictures docs/model-cards/restorer-detect]``

Every validation photo is aged once per damage type (only that type, so a type's precision is
its own), once with a random mix, and once with no damage at all (fading, toning, grain, blur,
JPEG, halftone: the share of pixels flagged there is the false-alarm rate a user sees on a
clean scan). The detector runs through the engine, exactly as the app runs it. Precision and
recall count a hit within 1 px (a scratch's edge is a matter of opinion at that scale),
pooled over the photos of a set. Beside it, the classical anchor: luma minus its 5 x 5 median,
thresholded, with the threshold that scores best on the mixed set (its best case).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from .damage import Damage, synthesize
from .data import read_listing
from .train_detect import tolerant_f1

SETS = tuple(d.name.lower() for d in Damage) + ("mixed",)
ANCHOR_LEVELS = (6, 10, 16, 24, 36)
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)


def validation_photos(data: Path, long_side: int) -> list[tuple[str, np.ndarray]]:
    photos = []
    for record in read_listing(data, "val"):
        rgb = cv2.cvtColor(cv2.imread(str(data / record.file), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        scale = min(1.0, long_side / max(h, w))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        photos.append((record.id, rgb))
    return photos


def aged_sets(photos, seed: int = 2024) -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Per set: (photo id, aged uint8 RGB, true damage mask). Seeded per set and photo."""
    sets: dict[str, list] = {}
    for s, name in enumerate(SETS + ("clean",)):
        items = []
        for p, (ident, rgb) in enumerate(photos):
            rng = np.random.default_rng([seed, s, p])
            if name == "clean":
                aged = synthesize(rgb, rng, damaged=False)
            elif name == "mixed":
                aged = synthesize(rgb, rng, damaged=True)
            else:
                aged = synthesize(rgb, rng, only=(Damage[name.upper()],))
            items.append((ident, aged.image, aged.mask))
        sets[name] = items
    return sets


def anchor_map(rgb: np.ndarray) -> np.ndarray:
    """|luma - median 5x5| in levels: the classic scratch-and-dust detector."""
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.abs(luma.astype(np.int16) - cv2.medianBlur(luma, 5).astype(np.int16)).astype(np.uint8)


def pooled(preds, truths) -> dict:
    kernel = np.ones((3, 3), np.uint8)
    tp_p = flagged = tp_r = damaged = 0
    for pred, truth in zip(preds, truths):
        near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
        near_pred = cv2.dilate(pred.astype(np.uint8), kernel) > 0
        tp_p += int((pred & near_truth).sum())
        flagged += int(pred.sum())
        tp_r += int((truth & near_pred).sum())
        damaged += int(truth.sum())
    precision = tp_p / flagged if flagged else 1.0
    recall = tp_r / damaged if damaged else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "damage_share": damaged / max(1, sum(t.size for t in truths))}


def evaluate(models_dir: Path, data: Path, model_id: str = "restorer-detect", long_side: int = 768,
             threshold: float = 0.5, pictures: Path | None = None) -> dict:
    from restorer_app.engine.detection import DamageDetector, level_of
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.runtime import Device

    registry = ModelRegistry([models_dir])
    detector = DamageDetector(registry.open(model_id, Device.CPU))
    photos = validation_photos(data, long_side)
    sets = aged_sets(photos)
    result: dict = {"model": model_id, "photos": [p[0] for p in photos], "long_side": long_side,
                    "threshold": threshold, "sets": {}, "anchor": {}, "sweep": {}}
    probabilities: dict[str, list[np.ndarray]] = {}
    started = time.perf_counter()
    pixels = 0
    for name, items in sets.items():
        probabilities[name] = [detector.detect(image).probability for _, image, _ in items]
        pixels += sum(image.shape[0] * image.shape[1] for _, image, _ in items)
    result["megapixels_per_second"] = pixels / 1e6 / (time.perf_counter() - started)
    level = level_of(threshold)
    for name in SETS:
        truths = [t for _, _, t in sets[name]]
        result["sets"][name] = pooled([p >= level for p in probabilities[name]], truths)
    clean_flagged = lambda preds: float(sum(int(p.sum()) for p in preds)) / sum(p.size for p in preds)  # noqa: E731
    result["clean_flagged"] = clean_flagged([p >= level for p in probabilities["clean"]])
    for t in SWEEP:
        lv = level_of(t)
        mixed = pooled([p >= lv for p in probabilities["mixed"]], [t_ for _, _, t_ in sets["mixed"]])
        result["sweep"][str(t)] = {"mixed_f1": mixed["f1"], "precision": mixed["precision"], "recall": mixed["recall"],
                                   "clean_flagged": clean_flagged([p >= lv for p in probabilities["clean"]])}
    # The anchor at its best threshold on the mixed set.
    anchors = {name: [anchor_map(image) for _, image, _ in items] for name, items in sets.items()}
    best = max(ANCHOR_LEVELS, key=lambda k: pooled([a > k for a in anchors["mixed"]],
                                                     [t for _, _, t in sets["mixed"]])["f1"])
    result["anchor"]["level"] = best
    result["anchor"]["sets"] = {name: pooled([a > best for a in anchors[name]], [t for _, _, t in sets[name]])
                                for name in SETS}
    result["anchor"]["clean_flagged"] = clean_flagged([a > best for a in anchors["clean"]])
    sample = bundled_sample()
    if sample is not None:
        image, truth = sample
        found = detector.detect(image).probability >= level
        result["sample"] = pooled([found], [truth])
        result["sample"]["flagged_share"] = float(found.mean())
        if pictures is not None:
            write_pictures(pictures, {"sample": [("damaged_portrait", image, truth)]}, {"sample": [found * 255]}, level)
    if pictures is not None:
        write_pictures(pictures, sets, probabilities, level)
    return result


def bundled_sample() -> tuple[np.ndarray, np.ndarray] | None:
    """The app's bundled damaged portrait and its hand-made mask (real damage shapes, painted by
    hand: a check outside the synthesiser)."""
    folder = Path(__file__).resolve().parent.parent / "resources" / "samples"
    photo, mask = folder / "damaged_portrait.jpg", folder / "damaged_portrait_mask.png"
    if not (photo.is_file() and mask.is_file()):
        return None
    rgb = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return rgb, cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE) > 0


def write_pictures(folder: Path, sets, probabilities, level: int, count: int = 4) -> None:
    """For a few photos of the mixed and clean sets: the aged photo, the true damage (red) and
    what was detected (cyan: right within 1 px, yellow: flagged but not damage, red: missed)."""
    folder.mkdir(parents=True, exist_ok=True)
    kernel = np.ones((3, 3), np.uint8)
    for name in [n for n in ("sample", "mixed", "clean") if n in sets]:
        for (ident, image, truth), probability in list(zip(sets[name], probabilities[name]))[:count]:
            pred = probability >= level
            view = image.copy()
            near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
            near_pred = cv2.dilate(pred.astype(np.uint8), kernel) > 0
            view[pred & near_truth] = (0, 230, 230)
            view[pred & ~near_truth] = (255, 230, 0)
            view[truth & ~near_pred] = (255, 0, 0)
            sheet = np.concatenate([image, view], axis=1)
            scale = min(1.0, 1000 / sheet.shape[1])
            sheet = cv2.resize(sheet, (round(sheet.shape[1] * scale), round(sheet.shape[0] * scale)), interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(folder / f"{name}-{ident}.jpg"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 75])


def markdown(result: dict) -> str:
    lines = [f"Validation photos ({len(result['photos'])}, long side {result['long_side']} px): "
             + ", ".join(result["photos"]) + ".", "",
             f"Threshold {result['threshold']}; hits within 1 px. Anchor: |luma - median 5x5| > "
             f"{result['anchor']['level']} levels (its best on the mixed set).", "",
             "| set | damage share | precision | recall | **F1** | anchor P | anchor R | anchor F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        s, a = result["sets"][name], result["anchor"]["sets"][name]
        lines.append(f"| {name} | {s['damage_share']:.2%} | {s['precision']:.3f} | {s['recall']:.3f} | **{s['f1']:.3f}** "
                     f"| {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} |")
    lines += ["", f"Pixels flagged on the clean aged photos: **{result['clean_flagged']:.3%}** "
              f"(anchor {result['anchor']['clean_flagged']:.2%}).", "",
              "| threshold | mixed precision | mixed recall | mixed F1 | clean flagged |", "|---|---|---|---|---|"]
    for t, s in result["sweep"].items():
        lines.append(f"| {t} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1'] if 'f1' in s else s['mixed_f1']:.3f} "
                     f"| {s['clean_flagged']:.3%} |")
    if "sample" in result:
        s = result["sample"]
        lines += ["", f"The app's bundled damaged portrait (`resources/samples/`, real damage shapes painted by hand, "
                  f"{s['damage_share']:.1%} of the photo): precision {s['precision']:.3f}, recall {s['recall']:.3f}, "
                  f"F1 **{s['f1']:.3f}**, {s['flagged_share']:.1%} flagged."]
    lines += ["", f"Speed in this evaluation: {result['megapixels_per_second']:.2f} MP/s (CPU, through the engine)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate_detect", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("resources/models"))
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--id", default="restorer-detect")
    parser.add_argument("--long-side", type=int, default=768)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--pictures", type=Path, help="write side-by-side pictures of detections here")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    parser.add_argument("--card", type=Path, help="(re)write this model card with the numbers")
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/detect/last.pt"),
                        help="the training checkpoint the card describes")
    args = parser.parse_args(argv)
    result = evaluate(args.models, args.data, args.id, args.long_side, args.threshold, args.pictures)
    text = markdown(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.card:
        import torch

        from .detect_card import write_detect_card

        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        parameters = sum(v.numel() for k, v in state["model"].items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
        model_file = args.models / f"{args.id}.onnx"
        write_detect_card(args.card, state, args.data, text, args.pictures.as_posix() if args.pictures else None,
                          parameters, model_file.stat().st_size / 1e6)
        print(f"wrote {args.card}")


if __name__ == "__main__":
    main(sys.argv[1:])
