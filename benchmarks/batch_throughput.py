"""Files per minute for a folder of photos: a plain loop of ``restorer inpaint`` processes
against ``restorer batch`` in one process and on a Dask LocalCluster of 1 and 2 workers.

The photos are validation photos (models/evaluate.py's) at ``--long-side`` px, each with one
seeded brush-stroke mask (models.masks), written as PNG. Every row starts from an empty output
folder; every row's outputs are checked to be the same pixels as the loop's.

    .venv/bin/python benchmarks/batch_throughput.py [--photos 16] [--long-side 1200] [--op inpaint|repair]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # models/ is not installed; it sits beside this folder
    sys.path.insert(0, str(ROOT))

from models.evaluate import validation_photos  # noqa: E402
from models.masks import MaskFamily, generate_mask  # noqa: E402

RESTORER = [sys.executable, "-m", "restorer_app.cli"]


def prepare(folder: Path, data: Path, count: int, long_side: int) -> list[Path]:
    photos = (folder / "photos", folder / "masks")
    for path in photos:
        path.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = []
    found = validation_photos(data, long_side)
    while len(written) < count:  # the validation photos again, flipped, when more are asked for
        for name, rgb in found:
            if len(written) == count:
                break
            if len(written) >= len(found):
                rgb, name = np.ascontiguousarray(rgb[:, ::-1]), f"{name}-flipped{len(written)}"
            image = photos[0] / f"{name}.png"
            cv2.imwrite(str(image), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            mask = generate_mask(MaskFamily.STROKES, rgb.shape[0], rgb.shape[1], rng)
            cv2.imwrite(str(photos[1] / f"{name}_mask.png"), mask)
            written.append(image)
    return written


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--long-side", type=int, default=1200)
    parser.add_argument("--op", choices=("inpaint", "repair"), default="inpaint")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="restorer-throughput-"))
    try:
        images = prepare(folder, args.data, args.photos, args.long_side)
        megapixels = np.mean([np.prod(cv2.imread(str(p)).shape[:2]) for p in images]) / 1e6
        print(f"{len(images)} photos of {megapixels:.2f} MP on average, op {args.op}, {os.cpu_count()} cores\n")
        print("| how | seconds | files per minute | seconds per file |")
        print("|---|---|---|---|")
        rows = []
        loop = folder / "loop"
        loop.mkdir()
        start = time.perf_counter()
        for image in images:
            one = [*RESTORER, args.op, str(image), "-o", str(loop / image.name)]
            if args.op == "inpaint":
                one += ["--mask", str(folder / "masks" / f"{image.stem}_mask.png")]
            subprocess.run(one, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows.append((f"a loop of `restorer {args.op}` processes", time.perf_counter() - start, loop))
        batch = [*RESTORER, "batch", str(folder / "photos"), "--op", args.op]
        if args.op == "inpaint":
            batch += ["--mask-dir", str(folder / "masks")]
        for label, extra in (("`restorer batch`, one process", []), ("`restorer batch --workers 1`", ["--workers", "1"]),
                             ("`restorer batch --workers 2`", ["--workers", "2"])):
            out = folder / label.split("`")[1].replace(" ", "_").replace("-", "")
            rows.append((label, timed(batch + ["--out-dir", str(out)] + extra), out))
        for label, seconds, out in rows:
            same = all(np.array_equal(cv2.imread(str(out / p.name), cv2.IMREAD_UNCHANGED),
                                      cv2.imread(str(loop / p.name), cv2.IMREAD_UNCHANGED)) for p in images)
            note = "" if same else " (pixels differ from the loop's!)"
            print(f"| {label}{note} | {seconds:.1f} | {60 * len(images) / seconds:.1f} | {seconds / len(images):.2f} |",
                  flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
