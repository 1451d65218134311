"""Fill latency and peak memory per method.

Cases: a 512x512 photo with a 10 % brush-stroke mask, and a 4000x3000 photo with a small
mask (scratches and dust, ~0.3 %). Each (method, case) runs in a fresh process that loads the
inputs from disk, so its peak resident memory (ru_maxrss) is its own; "RSS above inputs" is
that peak minus the process's size right after loading them. Prints a Markdown table.

    .venv/bin/python benchmarks/fill_latency.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import resource
import statistics
import tempfile
import time

import cv2
import numpy as np


def photo(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 6, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def stroke_mask(height: int, width: int, coverage: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    mask = np.zeros((height, width), np.uint8)
    while np.count_nonzero(mask) < coverage * mask.size:
        points = np.cumsum(rng.normal(0, width / 25, (6, 2)), axis=0) + rng.uniform(0, [width, height])
        cv2.polylines(mask, [points.astype(np.int32)], False, 255, max(3, width // 40))
    return mask


def scratch_mask(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(2)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(6):
        x = int(rng.uniform(0, width))
        cv2.line(mask, (x, 0), (x + int(rng.normal(0, 80)), height), 255, 3)
    for _ in range(300):
        cv2.circle(mask, (int(rng.uniform(0, width)), int(rng.uniform(0, height))), int(rng.integers(1, 4)), 255, -1)
    return mask


CASES = {
    "512x512, 10 % strokes": lambda: (photo(512, 512), stroke_mask(512, 512, 0.10)),
    "4000x3000, small mask": lambda: (photo(3000, 4000), scratch_mask(3000, 4000)),
}


#: Suffix of a benchmarked method run with ``InpaintRequest.quick``.
QUICK = " (quick)"


def current_rss_kb() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() // 1024


def write_inputs(case: str, path: str) -> None:
    pixels, mask = CASES[case]()
    np.savez(path, pixels=pixels, mask=mask)


def measure(method: str, inputs: str, repeats: int, queue) -> None:
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter

    with np.load(inputs) as data:
        pixels, mask = data["pixels"], data["mask"]
    baseline = current_rss_kb()  # process + inputs; the fill's own memory is measured above this
    times = []
    if method == "telea (whole image, no crop)":
        for _ in range(repeats):
            start = time.perf_counter()
            cv2.inpaint(pixels, mask, 3, cv2.INPAINT_TELEA)
            times.append(time.perf_counter() - start)
        provider = "CPU (OpenCV)"
    else:
        inpainter = Inpainter()
        image = RasterImage(pixels, ImageInfo("PNG", 8))
        request = InpaintRequest(method=method.removesuffix(QUICK), quick=method.endswith(QUICK))
        result = inpainter.inpaint(image, mask, request)  # warm-up: session creation, caches
        provider = result.provider
        if result.classical_pixels:
            provider += f"; {result.classical_pixels / result.changed_pixels:.0%} of the hole pixels by NS (thin damage)"
        for _ in range(repeats):
            start = time.perf_counter()
            inpainter.inpaint(image, mask, request)
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((statistics.median(times), peak / 1024, (peak - baseline) / 1024, provider,
               float(np.count_nonzero(mask)) / mask.size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    from restorer_app.engine.pipeline import AUTO, Inpainter

    # auto is what users get by default; on large jobs it differs from naming the model.
    methods = [m.id for m in Inpainter().methods() if m.available]
    methods.insert(1, AUTO + QUICK)  # the Quick fill switch: one model run instead of the mirror pair
    methods.append("telea (whole image, no crop)")
    context = mp.get_context("spawn")
    print("| method | case | mask | median latency | peak RSS | RSS above inputs | provider |")
    print("|---|---|---|---|---|---|---|")
    folder = tempfile.mkdtemp(prefix="restorer-bench-")
    for case in CASES:
        # Inputs are made in a child: Linux keeps a parent's peak RSS across fork+exec, so
        # this process must stay small for the children's ru_maxrss to mean anything.
        inputs = os.path.join(folder, "case.npz")
        maker = context.Process(target=write_inputs, args=(case, inputs))
        maker.start()
        maker.join()
        repeats = args.repeats if case.startswith("512") else max(3, args.repeats // 3)
        for method in methods:
            queue = context.Queue()
            worker = context.Process(target=measure, args=(method, inputs, repeats, queue))
            worker.start()
            median, peak_mb, added_mb, provider, coverage = queue.get()
            worker.join()
            print(f"| {method} | {case} | {coverage:.1%} | {median * 1000:.0f} ms | {peak_mb:.0f} MB "
                  f"| {added_mb:.0f} MB | {provider} |", flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
