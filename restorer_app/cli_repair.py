"""`restorer detect` and `restorer repair`: the damage detector's mask on its own, or detected
and filled in one go, with the same checks before any work as `inpaint` (cli_jobs) and the
same record (a repair's record also names the detector and threshold).

A repair that finds nothing still writes its output, an unchanged copy with a record of no
fills: a batch gives every input an output, and a script that repairs then opens OUT works.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from .cli_jobs import (EXIT_FAILED, EXIT_OK, ConsoleProgress, Job, UsageError, check_options, check_outputs,
                       plan_outputs, prepare_output_folders)
from .engine.detection import DEFAULT_THRESHOLD, REPAIR_GROW, DamageDetector, DamageMap, level_of, open_detector
from .engine.errors import ImageWriteError, OperationCancelled, RestorerError
from .engine.export import export_with_record
from .engine.files import commit_and_sync
from .engine.image_formats import format_for_path
from .engine.image_write import stage_image
from .engine.imageio import ImageInfo, RasterImage, load_image
from .engine.chain import REPAIR, Chain, ChainSettings
from .engine.pipeline import AUTO, InpaintRequest, Inpainter
from .engine.registry import LoadedModel
from .engine.runtime import Device

#: Formats a mask may be written in: lossless, so 0 stays 0 and 255 stays 255.
MASK_FORMATS = ("PNG", "TIFF", "BMP")
MASK_SUFFIX = ".png"
PROBABILITY_SUFFIX = ".probability.png"


def add_detect_commands(commands) -> None:
    """The ``detect`` and ``repair`` sub-commands."""
    detect = commands.add_parser("detect", help="find scratches, dust, creases and tears; write them as a mask")
    detect.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    detect.add_argument("-o", "--output", type=Path, metavar="MASK",
                        help="mask file for a single IMAGE (PNG, TIFF or BMP; white = damage)")
    detect.add_argument("--out-dir", type=Path,
                        help="folder for batch masks, named IMAGE's stem + .png (what 'inpaint --mask-dir' reads)")
    detect.add_argument("--save-probability", action="store_true",
                        help="also write MASK's stem + '.probability.png': the damage probability x 255, to "
                             "threshold again without running the detector")
    _add_common(detect, overwrite="replace masks that already exist")

    repair = commands.add_parser("repair", help="find the damage of one or more photos and fill it")
    repair.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    repair.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file for a single IMAGE")
    repair.add_argument("--out-dir", type=Path, help="folder for batch outputs (same file names)")
    repair.add_argument("--method", default=AUTO, help="auto, telea, ns or a model id (see 'restorer models')")
    repair.add_argument("--jpeg-quality", type=int, default=95, metavar="Q",
                        help="quality 1-100 when the output is JPEG (lossy; default 95)")
    repair.add_argument("--save-synthesized-mask", action="store_true",
                        help="also write OUT's stem + '.synthesized.png': white where pixels were synthesized")
    _add_common(repair, overwrite="replace outputs (and synthesized-pixels masks) that already exist",
                grow=REPAIR_GROW)


def _add_common(parser: argparse.ArgumentParser, *, overwrite: str, grow: int = 0) -> None:
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="T",
                        help="damage probability (0-1) a pixel needs to be flagged: lower finds more, and more "
                             f"fine detail by mistake (default {DEFAULT_THRESHOLD:g})")
    parser.add_argument("--grow", type=int, default=grow, metavar="PX",
                        help=f"grow the flagged areas by PX pixels (default {grow})")
    parser.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    parser.add_argument("--keep-folders", action="store_true",
                        help="in a batch, keep the inputs' folders (below their common folder) under --out-dir")
    parser.add_argument("--overwrite", action="store_true", help=overwrite)
    parser.add_argument("--page", type=int, default=None, metavar="N",
                        help="page of a multi-page TIFF, from 1 (default: the largest page)")
    parser.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                        help="refuse images larger than this (default: $RESTORER_MAX_MEGAPIXELS or 300)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run_detect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = [Job(job.image, None, job.output, record=False,
                extra=(probability_path(job.output),) if args.save_probability else ())
            for job in plan_outputs(args, batch_suffix=MASK_SUFFIX)]
    for job in jobs:
        if format_for_path(job.output) not in MASK_FORMATS:
            raise UsageError(f"a mask must be written losslessly: {job.output} is "
                             f"{format_for_path(job.output)}; use .png or .tif")
    batch = args.out_dir is not None
    check_outputs(jobs, synthesized=False, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    inpainter = Inpainter()
    detector = _open(inpainter, args, err, set())

    def one(job: Job, progress: ConsoleProgress) -> str:
        image = _load(job, args, err)
        started = time.perf_counter()
        damage = DamageDetector(detector).detect(image.pixels, progress)
        mask = damage.mask(args.threshold, args.grow)
        if args.save_probability:
            write_mask(damage.probability, probability_path(job.output), protect=(job.image,),
                       overwrite=args.overwrite)
        write_mask(mask, job.output, protect=(job.image,), overwrite=args.overwrite)
        return (f"{job.output}  ({describe_detection(damage, detector, args.threshold, args.grow, mask)}, "
                f"{time.perf_counter() - started:.2f} s)")

    return _run_jobs(jobs, one, batch, out, err)


def run_repair(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = plan_outputs(args)
    batch = args.out_dir is not None
    check_outputs(jobs, synthesized=args.save_synthesized_mask, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    # The detector is opened once for the whole run: a missing or damaged one stops it before
    # any photo is read. Its notice (a CUDA fallback) is said once, with the fill's.
    chain = Chain(ChainSettings(op=REPAIR, threshold=args.threshold, grow=args.grow,
                                request=InpaintRequest(method=args.method, device=Device(args.device)),
                                device=Device(args.device)))
    shown: set[str] = set()
    _say_notices(chain.notices, shown, err)
    if any(job.output.suffix.lower() in (".jpg", ".jpeg") for job in jobs):
        err.write(f"restorer: warning: JPEG output is lossy (quality {args.jpeg_quality}); use PNG or TIFF to keep "
                  "every pixel.\n")

    def one(job: Job, progress: ConsoleProgress) -> str:
        image = _load(job, args, err)
        started = time.perf_counter()
        result = chain.run(image, None, progress)
        found = describe_detection(result.damage, chain.detector, args.threshold, args.grow, result.detected)
        synthesized = result.detected if args.save_synthesized_mask else None
        export_with_record(image.with_pixels(result.pixels), job.output, result.operations, source=job.image,
                           synthesized=synthesized, jpeg_quality=args.jpeg_quality, protect=(job.image,),
                           overwrite=args.overwrite)
        if result.fill is None:
            err.write(f"restorer: note: no damage found in {job.image.name} at threshold {args.threshold:g}; "
                      f"{job.output} is an unchanged copy.\n")
            return f"{job.output}  (unchanged; {found}, {time.perf_counter() - started:.2f} s)"
        _say_notices(result.notices, shown, err)
        fill = result.fill
        return (f"{job.output}  ({found}; {fill.method_label} on {fill.provider}, {fill.changed_pixels} "
                f"pixels in {fill.regions} regions, {time.perf_counter() - started:.2f} s)")

    return _run_jobs(jobs, one, batch, out, err)


def describe_detection(damage: DamageMap, detector: LoadedModel, threshold: float, grow: int,
                       mask: np.ndarray) -> str:
    """'1234 pixels flagged (0.52 %) at threshold 0.5, 2100 once grown by 1 px, by restorer-detect 1.0
    on CPU (ONNX Runtime)'."""
    flagged = int(np.count_nonzero(damage.probability >= level_of(threshold)))
    share = 100.0 * flagged / max(1, damage.probability.size)
    grown = f", {int(np.count_nonzero(mask))} once grown by {grow} px" if grow else ""
    return (f"{flagged} pixels flagged ({share:.2f} %) at threshold {threshold:g}{grown}, by {damage.model_id} "
            f"{damage.model_version} on {detector.runtime.placement.label}")


def probability_path(mask: Path) -> Path:
    return mask.with_name(mask.stem + PROBABILITY_SUFFIX)


def write_mask(values: np.ndarray, path: Path, *, protect: tuple[Path, ...], overwrite: bool) -> None:
    """Write an H x W uint8 image atomically, never over ``protect`` nor, unless
    ``overwrite``, over a file that appeared since the run was checked."""
    staged = stage_image(RasterImage(values[:, :, None], ImageInfo("PNG", 8)), path, protect=protect)
    if not overwrite and path.exists():
        staged.discard()
        raise ImageWriteError(f"'{path}' already exists; Restorer replaces a file only when asked to "
                              "(--overwrite on the command line).")
    commit_and_sync(staged)


def _open(inpainter: Inpainter, args: argparse.Namespace, err: TextIO, shown: set[str]) -> LoadedModel:
    """The detector, opened once for the whole run: a missing or damaged one stops it before
    any photo is read. Its notice (a CUDA fallback) is said once, with the fill's."""
    detector = open_detector(inpainter.registry, Device(args.device))
    _say_notices([detector.runtime.notice] if detector.runtime.notice else [], shown, err)
    return detector


def _say_notices(notices, shown: set[str], err: TextIO) -> None:
    for notice in notices:
        if notice not in shown:
            shown.add(notice)
            err.write(f"restorer: note: {notice}\n")


def _load(job: Job, args: argparse.Namespace, err: TextIO) -> RasterImage:
    max_pixels = None if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    image = load_image(job.image, max_pixels=max_pixels, page=args.page)
    for number, notice in enumerate(image.info.notices):  # pages left out, CMYK converted
        hint = " Choose another with --page N." if number == 0 and image.info.page_count > 1 else ""
        err.write(f"restorer: note: {notice}{hint}\n")
    return image


def _run_jobs(jobs: list[Job], one: Callable[[Job, ConsoleProgress], str], batch: bool, out: TextIO,
              err: TextIO) -> int:
    """Run ``one(job, progress)`` for every job; a batch goes on past a failed input and
    lists the failures at the end, a single image raises its error."""
    failures: list[tuple[Path, str]] = []
    for number, job in enumerate(jobs, start=1):
        prefix = f"[{number}/{len(jobs)}] {job.image.name}: " if batch else ""
        progress = ConsoleProgress(err, prefix)
        try:
            summary = one(job, progress)
        except OperationCancelled:
            raise
        except RestorerError as exc:
            progress.done()
            if not batch:
                raise
            failures.append((job.image, str(exc)))
            err.write(f"{prefix}failed: {exc}\n")
            continue
        progress.done()
        (err if batch else out).write(f"{prefix}{summary}\n")
    if failures:
        err.write(f"restorer: {len(failures)} of {len(jobs)} images failed:\n")
        for path, reason in failures:
            err.write(f"  {path}: {reason}\n")
        return EXIT_FAILED
    return EXIT_OK
