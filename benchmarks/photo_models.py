"""The whole-photo models on large scans: time and peak RSS of the bundled detector and restorer.

Each row runs in a fresh process (spawned, so the parent's memory does not count) that makes a
photo-like scan with damage, then works on it; "RSS with scan" is the process before the work
(the scan in memory, no model loaded), so peak minus it is what the work costs. Rows: damage
detection and whole-photo restoration (every strength on auto, colour on) on 12 MP 8-bit RGB
(4000 x 3000) and 60 MP 16-bit RGB (9000 x 6700), and detection plus the default fill
(``restorer repair``'s work) on the 12 MP scan.

    .venv/bin/python benchmarks/photo_models.py [--skip-60mp] [--only detect|restore] [--threads N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time

import cv2
import numpy as np


def make_scan(height: int, width: int, sixteen: bool) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (height // 48 + 1, width // 48 + 1, 3), dtype=np.uint8)
    scan = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(30):  # scratches
        x = int(rng.uniform(0, width))
        cv2.line(scan, (x, 0), (x + int(rng.normal(0, 200)), height), (235, 235, 235), int(rng.integers(1, 4)))
    for _ in range(2000):  # dust
        cv2.circle(scan, (int(rng.uniform(0, width)), int(rng.uniform(0, height))), int(rng.integers(1, 4)),
                   (20, 20, 20), -1)
    if sixteen:
        return scan.astype(np.uint16) * 257
    return scan


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def run(task: str, height: int, width: int, sixteen: bool, threads: int | None, queue) -> None:
    if threads:
        os.environ["RESTORER_CPU_THREADS"] = str(threads)
    from restorer_app.engine.detection import DEFAULT_THRESHOLD, REPAIR_GROW, detect_damage, open_detector
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry, default_model_folders
    from restorer_app.engine.restoration import RestoreOptions, open_restorer, restore

    scan = make_scan(height, width, sixteen)
    image = RasterImage(scan, ImageInfo("TIFF", 16 if sixteen else 8))
    before = rss_mb()
    registry = ModelRegistry(default_model_folders())
    if task == "restore":
        model = open_restorer(registry)
        start = time.perf_counter()
        result = restore(image, model, RestoreOptions())
        first = total = time.perf_counter() - start
        s = result.strengths
        detail = (f"strengths {s.denoise:.2f} / {s.deblock:.2f} / {s.sharpen:.2f} ({result.estimated_by}), "
                  f"on {result.provider}")
    else:
        model = open_detector(registry)
        start = time.perf_counter()
        found = detect_damage(scan, model)
        first = total = time.perf_counter() - start
        detail = f"{found.share(DEFAULT_THRESHOLD):.2%} flagged, on {model.runtime.placement.label}"
        if task == "repair":
            mask = found.mask(DEFAULT_THRESHOLD, REPAIR_GROW)
            result = Inpainter(registry).inpaint(image, mask, InpaintRequest())
            total = time.perf_counter() - start
            detail += f"; filled {result.changed_pixels:,} px in {result.regions} regions"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((first, total, peak, before, detail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-60mp", action="store_true")
    parser.add_argument("--only", choices=("detect", "restore"))
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    rows = []
    for task in ("detect", "restore"):
        if args.only in (None, task):
            rows.append((f"12 MP 8-bit, {task}", task, 3000, 4000, False))
            if not args.skip_60mp:
                rows.append((f"60 MP 16-bit, {task}", task, 6700, 9000, True))
    if args.only in (None, "detect"):
        rows.append(("12 MP 8-bit, detect + auto fill", "repair", 3000, 4000, False))
    ctx = mp.get_context("spawn")
    print("| case | the model's part | total | peak RSS | RSS with scan | detail |")
    print("|---|---|---|---|---|---|")
    for name, task, h, w, sixteen in rows:
        queue = ctx.Queue()
        process = ctx.Process(target=run, args=(task, h, w, sixteen, args.threads, queue))
        process.start()
        first, total, peak, before, detail = queue.get()
        process.join()
        print(f"| {name} | {first:.1f} s | {total:.1f} s | {peak:,.0f} MB | {before:,.0f} MB | {detail} |", flush=True)


if __name__ == "__main__":
    main()
