"""Damage detection on large scans: time and peak RSS of the bundled detector.

Each row runs in a fresh process (spawned, so the parent's memory does not count) that makes a
photo-like scan with damage, then detects; "RSS with scan" is the process before detection
(the scan in memory, the model not yet loaded), so peak minus it is what detection costs.
Rows: 12 MP 8-bit RGB (4000 x 3000) and 60 MP 16-bit RGB (9000 x 6700), then detection plus
the default fill (``restorer repair``'s work) on the 12 MP scan.

    .venv/bin/python benchmarks/detect_speed.py [--skip-60mp] [--threads N]
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


def run(height: int, width: int, sixteen: bool, repair: bool, threads: int | None, queue) -> None:
    if threads:
        os.environ["RESTORER_CPU_THREADS"] = str(threads)
    from restorer_app.engine.detection import DEFAULT_THRESHOLD, REPAIR_GROW, detect_damage, open_detector
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry, default_model_folders

    scan = make_scan(height, width, sixteen)
    before = rss_mb()
    registry = ModelRegistry(default_model_folders())
    model = open_detector(registry)
    start = time.perf_counter()
    found = detect_damage(scan, model)
    detected = time.perf_counter() - start
    share = found.share(DEFAULT_THRESHOLD)
    detail = f"{share:.2%} flagged, on {model.runtime.placement.label}"
    total = detected
    if repair:
        mask = found.mask(DEFAULT_THRESHOLD, REPAIR_GROW)
        image = RasterImage(scan, ImageInfo("TIFF", 16 if sixteen else 8))
        result = Inpainter(registry).inpaint(image, mask, InpaintRequest())
        total = time.perf_counter() - start
        detail += f"; filled {result.changed_pixels:,} px in {result.regions} regions"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((detected, total, peak, before, detail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-60mp", action="store_true")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    rows = [("12 MP 8-bit, detect", 3000, 4000, False, False)]
    if not args.skip_60mp:
        rows.append(("60 MP 16-bit, detect", 6700, 9000, True, False))
    rows.append(("12 MP 8-bit, detect + auto fill", 3000, 4000, False, True))
    ctx = mp.get_context("spawn")
    print("| case | detection | total | peak RSS | RSS with scan | detail |")
    print("|---|---|---|---|---|---|")
    for name, h, w, sixteen, repair in rows:
        queue = ctx.Queue()
        process = ctx.Process(target=run, args=(h, w, sixteen, repair, args.threads, queue))
        process.start()
        detected, total, peak, before, detail = queue.get()
        process.join()
        print(f"| {name} | {detected:.1f} s | {total:.1f} s | {peak:,.0f} MB | {before:,.0f} MB | {detail} |", flush=True)


if __name__ == "__main__":
    main()
