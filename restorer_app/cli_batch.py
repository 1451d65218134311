"""`restorer batch`: a folder (or files) through one chain of steps — restore, repair (detect and
fill), inpaint given masks, or restore then one of those — with a results manifest, and resumable:
a rerun skips what is done and verified, and retries what failed or was cut off.

The photos are worked on one after another in this process (engine/batch.py), or on a Dask
cluster with ``--workers N`` / ``--scheduler ADDRESS`` (restorer_app/cluster.py). Either way
each photo goes through the same engine calls as ``restorer restore`` / ``repair`` /
``inpaint``, so the outputs are the same bit for bit.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TextIO

from .cli_jobs import EXIT_FAILED, EXIT_OK, UsageError, check_options
from .cli_restore import COLOUR_CHOICES, OFF, strength
from .engine.batch import DONE, FAILED, RESULTS_NAME, BatchOutcome, ResultsLog, plan_tasks, run_batch
from .engine.chain import OPS, REPAIR, Chain, ChainSettings
from .engine.detection import DEFAULT_THRESHOLD, REPAIR_GROW
from .engine.errors import RestorerError
from .engine.pipeline import AUTO, DEFAULT_GRAIN, InpaintRequest
from .engine.progress import Progress, duration_text
from .engine.restoration import RestoreOptions
from .engine.runtime import Device


def add_batch_command(commands) -> None:
    batch = commands.add_parser(
        "batch", help="a folder of photos through restore / repair / inpaint, resumable, with a results manifest")
    batch.add_argument("inputs", nargs="+", type=Path, metavar="FOLDER_IMAGE_OR_LIST",
                       help="photos, folders of photos, or .txt lists of photos (one path per line, relative to "
                            "the list's folder)")
    batch.add_argument("--out-dir", type=Path, required=True, help="folder for the outputs (same file names)")
    batch.add_argument("--op", choices=OPS, default=REPAIR,
                       help="what to do to each photo: restore, repair (detect the damage and fill it), inpaint "
                            "(fill the mask from --mask-dir), or restore first and then repair or inpaint "
                            "(default repair)")
    batch.add_argument("--mask-dir", type=Path, help="for inpaint: the mask of scan.tif is MASK_DIR/scan.* "
                                                     "or MASK_DIR/scan_mask.*")
    batch.add_argument("--results", type=Path, default=None, metavar="FILE",
                       help=f"the results manifest, JSON Lines (default OUT_DIR/{RESULTS_NAME})")
    batch.add_argument("--keep-folders", action="store_true",
                       help="keep the inputs' folders (below their common folder) under --out-dir")
    batch.add_argument("--overwrite", action="store_true",
                       help="redo every photo and replace outputs that are there (otherwise a rerun skips outputs "
                            "that are done and verified, and never replaces a file it did not make)")
    batch.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run on a Dask LocalCluster of N worker processes on this machine")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--threads-per-worker", type=int, default=None, metavar="T",
                       help="ONNX Runtime threads in each worker (default: the cores divided among the workers)")
    batch.add_argument("--method", default=AUTO, help="how holes are filled: auto, telea, ns or a model id")
    batch.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="T",
                       help=f"repair: damage probability a pixel needs to be flagged (default {DEFAULT_THRESHOLD:g})")
    batch.add_argument("--grow", type=int, default=REPAIR_GROW, metavar="PX",
                       help=f"repair: grow the flagged areas by PX pixels (default {REPAIR_GROW})")
    batch.add_argument("--grain", type=float, default=DEFAULT_GRAIN, metavar="S",
                       help=f"texture of learned fills, 0-1 (default {DEFAULT_GRAIN:g})")
    for name in ("denoise", "deblock", "sharpen"):
        batch.add_argument(f"--{name}", type=strength, default=None, metavar="auto|S",
                           help=f"restore: {name} strength 0-1, or auto (default)")
    batch.add_argument("--colour", choices=COLOUR_CHOICES, default=OFF,
                       help="restore: correct fading and colour casts (auto) or not (off, the default)")
    batch.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    batch.add_argument("--jpeg-quality", type=int, default=95, metavar="Q",
                       help="quality 1-100 when an output is JPEG (lossy; default 95)")
    batch.add_argument("--save-synthesized-mask", action="store_true",
                       help="also write each output's stem + '.synthesized.png'")
    batch.add_argument("--page", type=int, default=None, metavar="N",
                       help="page of multi-page TIFFs, from 1 (default: the largest page)")
    batch.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                       help="refuse images larger than this (default: $RESTORER_MAX_MEGAPIXELS or 300)")
    batch.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def settings_from(args: argparse.Namespace) -> ChainSettings:
    device = Device(args.device)
    return ChainSettings(op=args.op, device=device, threshold=args.threshold, grow=args.grow,
                         restore=RestoreOptions(args.denoise, args.deblock, args.sharpen, colour=args.colour != OFF),
                         request=InpaintRequest(method=args.method, device=device, grain=args.grain))


def run_batch_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.workers is not None and args.scheduler:
        raise UsageError("use either --workers (a cluster on this machine) or --scheduler (an existing one)")
    if args.mask_dir is not None and "inpaint" not in args.op:
        raise UsageError(f"--mask-dir is for the inpaint operations; '{args.op}' finds its own damage or fills none")
    on_cluster = args.workers is not None or bool(args.scheduler)
    if on_cluster:
        from . import cluster

        if not cluster.available():
            if args.scheduler:
                raise UsageError(f"--scheduler needs Dask's distributed package, which is not installed "
                                 f"({cluster.INSTALL_HINT} brings it)")
            err.write(f"restorer: note: {cluster.MISSING}, so the photos are worked on in this process, one after "
                      "another, instead of on a cluster of workers.\n")
            on_cluster = False
    settings = settings_from(args)
    try:
        tasks = plan_tasks(args.inputs, args.out_dir, mask_dir=args.mask_dir, keep_folders=args.keep_folders,
                           needs_mask=settings.needs_mask)
    except RestorerError as exc:
        raise UsageError(str(exc)[0].lower() + str(exc)[1:].rstrip(".")) from None
    log = ResultsLog(args.results or args.out_dir / RESULTS_NAME)
    max_pixels = None if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meter = BatchMeter(err, len(tasks))
    if on_cluster:
        from .cluster import TaskOptions, run_on_cluster

        options = TaskOptions(jpeg_quality=args.jpeg_quality, synthesized=args.save_synthesized_mask,
                              overwrite=args.overwrite, max_pixels=max_pixels, page=args.page)
        outcomes = run_on_cluster(settings, tasks, log, workers=args.workers, scheduler=args.scheduler,
                                  threads=args.threads_per_worker, options=options, progress=meter,
                                  on_outcome=meter.ended)
    else:
        chain = Chain(settings)  # models opened before any photo: a missing one stops the run here
        for notice in chain.notices:
            err.write(f"restorer: note: {notice}\n")
        outcomes = run_batch(chain, tasks, log, jpeg_quality=args.jpeg_quality, synthesized=args.save_synthesized_mask,
                             overwrite=args.overwrite, progress=meter, on_outcome=meter.ended,
                             max_pixels=max_pixels, page=args.page)
    meter.done()
    return summarise(outcomes, log, time.perf_counter() - started, out, err)


def summarise(outcomes: list[BatchOutcome], log: ResultsLog, seconds: float, out: TextIO, err: TextIO) -> int:
    done = sum(o.status == DONE for o in outcomes)
    failed = [o for o in outcomes if o.status == FAILED]
    skipped = len(outcomes) - done - len(failed)
    out.write(f"{done} done, {skipped} already done, {len(failed)} failed in {seconds:.1f} s; results in {log.path}\n")
    if failed:
        err.write(f"restorer: {len(failed)} of {len(outcomes)} photos failed (a rerun retries them):\n")
        for outcome in failed:
            err.write(f"  {outcome.input}: {outcome.error}\n")
        return EXIT_FAILED
    return EXIT_OK


class BatchMeter(Progress):
    """The batch's progress on stderr: photos done of all, rate and time left, on one live line
    on a terminal; one line per photo on a pipe."""

    def __init__(self, stream: TextIO, total: int) -> None:
        super().__init__()
        self._stream, self._total = stream, total
        self._live = stream.isatty()
        self._started = time.perf_counter()
        self._ran = 0  # photos worked on (not skipped), for the rate
        self._ended = 0
        self._fraction = 0.0

    def report(self, fraction: float, message: str = "") -> None:
        self._fraction = fraction
        if self._live:
            self._stream.write(f"\r{self.line(message)[:110]:<110}")
            self._stream.flush()

    def line(self, message: str = "") -> str:
        elapsed = time.perf_counter() - self._started
        left = ""
        if self._ran and self._ended < self._total:
            rate = self._ran / elapsed  # photos a second
            left = f" · {rate * 60:.1f} photos/min · about {duration_text((self._total - self._ended) / rate)} left"
        return f"[{self._ended}/{self._total}] {100 * self._fraction:5.1f}%{left}  {message}"

    def ended(self, outcome: BatchOutcome, number: int) -> None:
        self._ended = number
        if outcome.status != "skipped":
            self._ran += 1
        if not self._live:
            what = outcome.error if outcome.status == FAILED else outcome.output
            self._stream.write(f"[{number}/{self._total}] {Path(outcome.input).name}: {outcome.status} {what or ''}\n")

    def done(self) -> None:
        if self._live:
            self._stream.write("\r" + " " * 110 + "\r")
            self._stream.flush()

