"""A 60 MP 16-bit scan with scattered scratches, dust and a few large damaged areas.

Prints time and peak RSS of Restorer's region-by-region fill next to OpenCV's Telea run on
the whole image (and, with ``--photo-models``, of damage detection and restoration) (one channel at a time, as OpenCV requires for 16-bit). Each measurement runs
in a fresh process that loads the scan from disk; inputs are made in a child process so the
parent stays small (Linux keeps a parent's peak RSS across fork+exec).

    .venv/bin/python benchmarks/large_scan.py [--width 9000 --height 6700] [--method telea]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time

import cv2
import numpy as np


def make_scan(height: int, width: int, case: str = "mixed") -> tuple[np.ndarray, np.ndarray]:
    """``mixed``: scattered scratches, dust and a few large areas (1.65 % on 60 MP);
    ``long-scratches``: 60 scratches 2-7 px wide right across the scan and 3 round losses
    120-300 px in radius (about 6.7 %), the case where crops used to grow as large as the scan."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 65535, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint16)
    scan = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    grain = rng.integers(-600, 600, (height, width), dtype=np.int32)
    for c in range(3):  # in place, one channel at a time: keeps this step's memory small
        channel = scan[:, :, c].astype(np.int32)
        channel += grain
        scan[:, :, c] = np.clip(channel, 0, 65535).astype(np.uint16)
    del grain
    mask = np.zeros((height, width), np.uint8)
    if case == "long-scratches":
        for _ in range(60):
            start = (int(rng.uniform(0, width)), 0) if rng.random() < 0.5 else (0, int(rng.uniform(0, height)))
            end = (int(rng.uniform(0, width)), height - 1) if start[1] == 0 else (width - 1, int(rng.uniform(0, height)))
            cv2.line(mask, start, end, 255, int(rng.integers(2, 8)))
        for _ in range(3):
            centre = (int(rng.uniform(300, width - 300)), int(rng.uniform(300, height - 300)))
            cv2.circle(mask, centre, int(rng.uniform(120, 300)), 255, -1)
        return scan, mask
    for _ in range(25):  # scratches
        x = int(rng.uniform(0, width))
        cv2.line(mask, (x, int(rng.uniform(0, height / 2))), (x + int(rng.normal(0, 150)), height), 255, int(rng.integers(2, 6)))
    for _ in range(3000):  # dust
        cv2.circle(mask, (int(rng.uniform(0, width)), int(rng.uniform(0, height))), int(rng.integers(1, 5)), 255, -1)
    for _ in range(4):  # large damaged areas (tears, stains)
        centre = rng.uniform((0, 0), (width, height)).astype(int)
        axes = tuple(int(a) for a in rng.uniform(60, 220, 2))
        cv2.ellipse(mask, tuple(int(c) for c in centre), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    return scan, mask


def write_inputs(height: int, width: int, path: str, case: str = "mixed") -> None:
    scan, mask = make_scan(height, width, case)
    np.savez(path, scan=scan, mask=mask)


def rss_now_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def run(kind: str, method: str, quick: bool, inputs: str, queue) -> None:
    with np.load(inputs) as data:
        scan, mask = data["scan"], data["mask"]
    loaded = rss_now_mb()
    start = time.perf_counter()
    if kind == "restorer":
        from restorer_app.engine.imageio import ImageInfo, RasterImage
        from restorer_app.engine.pipeline import InpaintRequest, Inpainter
        from restorer_app.engine.progress import RecordingProgress

        progress = RecordingProgress()
        request = InpaintRequest(method=method, quick=quick)
        result = Inpainter().inpaint(RasterImage(scan, ImageInfo("TIFF", 16)), mask, request, progress)
        detail = f"{result.regions} regions, {result.method_label} on {result.provider}"
    elif kind == "detect":
        from restorer_app.engine.detection import detect_damage, open_detector
        from restorer_app.engine.pipeline import Inpainter

        damage = detect_damage(scan, open_detector(Inpainter().registry))
        detail = f"{damage.model_id} {damage.model_version}, {np.count_nonzero(damage.mask(0.5, 0)):,} pixels flagged"
    elif kind == "restore":
        from restorer_app.engine.pipeline import Inpainter
        from restorer_app.engine.restoration import PhotoRestorer, RestoreOptions, open_restorer

        result = PhotoRestorer(open_restorer(Inpainter().registry)).restore(scan, RestoreOptions())
        detail = f"{result.model.id} {result.model.version}, strengths on auto, {result.changed_pixels:,} pixels changed"
    else:
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        out = np.empty_like(scan)
        for c in range(3):
            out[:, :, c] = cv2.inpaint(np.ascontiguousarray(scan[:, :, c]), mask, 3, flag)
        detail = "whole image, 3 channels"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, peak, loaded, detail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=9000)
    parser.add_argument("--height", type=int, default=6700)
    parser.add_argument("--method", default="telea", help="Restorer method: telea, ns, auto or a model id")
    parser.add_argument("--quick", action="store_true", help="one model run per hole (the Quick fill switch)")
    parser.add_argument("--photo-models", action="store_true",
                        help="also time damage detection and whole-photo restoration on the scan")
    parser.add_argument("--case", choices=("mixed", "long-scratches"), default="mixed",
                        help="the damage: scattered (mixed) or long scratches across the scan")
    args = parser.parse_args()
    context = mp.get_context("spawn")
    folder = tempfile.mkdtemp(prefix="restorer-large-")
    inputs = os.path.join(folder, "scan.npz")
    maker = context.Process(target=write_inputs, args=(args.height, args.width, inputs, args.case))
    maker.start()
    maker.join()
    with np.load(inputs) as data:
        coverage = float(np.count_nonzero(data["mask"])) / data["mask"].size
    megapixels = args.width * args.height / 1e6
    print(f"Scan: {args.width}x{args.height} ({megapixels:.0f} MP), 16-bit RGB, mask {coverage:.2%}\n")
    print("| fill | time | peak RSS | RSS with scan loaded | detail |")
    print("|---|---|---|---|---|")
    quick = ", quick" if args.quick else ""
    rows = [("restorer", f"Restorer ({args.method}{quick}, region by region)"),
            ("opencv", "OpenCV Telea on the whole image")]
    if args.photo_models:
        rows += [("detect", "damage detection (restorer detect)"), ("restore", "whole-photo restoration")]
    for kind, label in rows:
        method = args.method if kind == "restorer" else "telea"
        queue = context.Queue()
        worker = context.Process(target=run, args=(kind, method, args.quick, inputs, queue))
        worker.start()
        seconds, peak, loaded, detail = queue.get()
        worker.join()
        print(f"| {label} | {seconds:.1f} s | {peak:.0f} MB | {loaded:.0f} MB | {detail} |", flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
