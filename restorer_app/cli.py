"""The `restorer` command: the same engine as the GUI, headless.

Contract (scripts depend on it; keep it stable):
    restorer inpaint IMAGE --mask MASK -o OUT [--method auto|telea|ns|MODEL_ID]
                     [--prompt TEXT] [--seed N] [--device auto|cpu|cuda]
    restorer inpaint IMAGE... --mask-dir DIR --out-dir DIR [...]
    restorer verify OUT...
    restorer models
    restorer --version
Every output gets embedded retouching tags and a ``OUT.restorer.json`` sidecar
(source and output sha256, one record per operation), written so that ``restorer verify``
can tell a complete pair from an interrupted one. Outputs and options are checked before any
fill; an existing output is replaced only with ``--overwrite``. Exit 0 on success, 1 when an
input failed (or, for verify, an output does not match its record), 2 on usage errors, 130
when interrupted (Ctrl-C), 128 + N when stopped by signal N (143 for SIGTERM). Errors are one
readable line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .engine.errors import ImageWriteError, MaskError, OperationCancelled, RestorerError, UnsupportedImageError
from .engine.imageio import format_for_path, is_image_path, load_image, stage_write
from .engine.masks import load_mask
from .engine.pipeline import AUTO, DEFAULT_GRAIN, DESCRIBED_WIDTH, InpaintRequest, Inpainter
from .engine.progress import Progress
from .engine.provenance import (export_with_record, operation_for, owner_of, sidecar_path, synthesized_mask_path,
                                verify_output)
from .engine.registry import ModelKind, ModelStatus
from .engine.runtime import Device

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class ConsoleProgress(Progress):
    """Progress on stderr: a live line on a terminal, nothing on a pipe (logs stay clean)."""

    def __init__(self, stream: TextIO, prefix: str = "") -> None:
        super().__init__()
        self._stream = stream
        self._prefix = prefix
        self._live = stream.isatty()

    def report(self, fraction: float, message: str = "") -> None:
        if self._live:
            self._stream.write(f"\r{self._prefix}{fraction * 100:5.1f}%  {message[:60]:<60}")
            self._stream.flush()

    def done(self) -> None:
        if self._live:
            self._stream.write("\r" + " " * (len(self._prefix) + 70) + "\r")
            self._stream.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restorer", description="Repair damaged photographs offline.")
    parser.add_argument("--version", action="version", version=f"restorer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    inpaint = commands.add_parser("inpaint", help="fill the masked areas of one or more photos")
    inpaint.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    inpaint.add_argument("--mask", type=Path, help="mask image for a single IMAGE (nonzero = fill)")
    inpaint.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file for a single IMAGE")
    inpaint.add_argument("--mask-dir", type=Path, help="folder of masks matched to images by file stem")
    inpaint.add_argument("--out-dir", type=Path, help="folder for batch outputs (same file names)")
    inpaint.add_argument("--keep-folders", action="store_true",
                         help="in a batch, keep the inputs' folders (below their common folder) under --out-dir, "
                              "so that a/x.png and b/x.png become OUT/a/x.png and OUT/b/x.png")
    inpaint.add_argument("--overwrite", action="store_true",
                         help="replace outputs (and synthesized-pixels masks) that already exist")
    inpaint.add_argument("--method", default=AUTO, help="auto, telea, ns or a model id (see 'restorer models')")
    inpaint.add_argument("--prompt", default="",
                         help="colour and look of what belongs in areas wider than about "
                              f"{DESCRIBED_WIDTH} px, e.g. 'clear blue sky' (sets colour and brightness, not "
                              "objects; strokes and spots are filled from their surroundings)")
    inpaint.add_argument("--seed", type=int, default=0, help="seed recorded with the fill (default 0)")
    inpaint.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    inpaint.add_argument("--feather", type=int, default=0, metavar="PX",
                         help="soft edge: the fill fades into the original over PX pixels inside the mask")
    inpaint.add_argument("--match-colour", action="store_true",
                         help="shift a learned fill's colour and brightness to match its surroundings")
    inpaint.add_argument("--grain", type=float, default=DEFAULT_GRAIN, metavar="S",
                         help="give a learned fill the film grain and fine texture around it: 0 = off, "
                              f"1 = as much as the surroundings (default {DEFAULT_GRAIN:g})")
    inpaint.add_argument("--quick", action="store_true",
                         help="run a learned model once per hole instead of twice (on the photo and its mirror "
                              "image, averaged): about 40 %% faster on the CPU, a little less accurate")
    inpaint.add_argument("--jpeg-quality", type=int, default=95, metavar="Q",
                         help="quality 1-100 when the output is JPEG (lossy; default 95)")
    inpaint.add_argument("--save-synthesized-mask", action="store_true",
                         help="also write OUT's stem + '.synthesized.png': white where pixels were synthesized")
    inpaint.add_argument("--page", type=int, default=None, metavar="N",
                         help="page of a multi-page TIFF to repair, from 1 (default: the largest page)")
    inpaint.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                         help="refuse images larger than this (default: $RESTORER_MAX_MEGAPIXELS or 300)")
    inpaint.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    verify = commands.add_parser("verify", help="check outputs against their sidecars and embedded XMP")
    verify.add_argument("outputs", nargs="+", type=Path, metavar="OUT")
    verify.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    models = commands.add_parser("models", help="list the installed fill methods and models")
    models.add_argument("--verify", action="store_true",
                        help="check every model file's sha256 (always done; kept for scripts)")
    models.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


@dataclass(frozen=True)
class Job:
    image: Path
    mask: Path | None
    output: Path
    problem: str | None = None

    def writes(self, synthesized: bool) -> list[Path]:
        """Every file this job puts on disk."""
        paths = [self.output, sidecar_path(self.output)]
        return paths + [synthesized_mask_path(self.output)] if synthesized else paths


def check_options(args: argparse.Namespace) -> None:
    """Refuse out-of-range options before any file is read or model loaded."""
    if not 1 <= args.jpeg_quality <= 100:
        raise UsageError("--jpeg-quality must be between 1 and 100 (default 95; above 95 files grow for little gain)")
    if not 0 <= args.seed <= 2**32 - 1:
        raise UsageError("--seed must be between 0 and 4294967295")
    if args.feather < 0:
        raise UsageError("--feather must be 0 or more pixels")
    if not (math.isfinite(args.grain) and 0.0 <= args.grain <= 1.0):
        raise UsageError("--grain must be between 0 and 1")
    if args.max_megapixels is not None and not (math.isfinite(args.max_megapixels) and args.max_megapixels > 0):
        raise UsageError("--max-megapixels must be a number above 0")
    if args.page is not None and args.page < 1:
        raise UsageError("--page counts from 1 (the first page of a TIFF is page 1)")


def plan_jobs(args: argparse.Namespace) -> list[Job]:
    """Pair every input with its mask and output, or raise a usage error."""
    single = args.mask is not None or args.output is not None
    batch = args.mask_dir is not None or args.out_dir is not None
    if single and batch:
        raise UsageError("use either --mask/-o (one image) or --mask-dir/--out-dir (a batch), not both")
    if single:
        if len(args.images) != 1:
            raise UsageError("--mask/-o take exactly one IMAGE; use --mask-dir/--out-dir for several")
        if args.mask is None or args.output is None:
            raise UsageError("a single image needs both --mask MASK and -o OUT")
        if args.keep_folders:
            raise UsageError("--keep-folders is for batches (--mask-dir/--out-dir)")
        return [Job(args.images[0], args.mask, args.output)]
    if args.mask_dir is None or args.out_dir is None:
        raise UsageError("give --mask MASK -o OUT for one image, or --mask-dir DIR --out-dir DIR")
    if not args.mask_dir.is_dir():
        raise UsageError(f"the mask folder '{args.mask_dir}' does not exist")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UsageError(f"the output folder '{args.out_dir}' is a file, not a folder")
    masks = _masks_by_stem(args.mask_dir)
    base = _common_folder(args.images) if args.keep_folders else None
    jobs = []
    for image in args.images:
        mask = masks.get(image.stem) or masks.get(f"{image.stem}_mask")
        problem = None if mask else f"no mask named '{image.stem}.*' in {args.mask_dir}"
        place = Path(os.path.abspath(image)).relative_to(base) if base else Path(image.name)
        jobs.append(Job(image, mask, args.out_dir / place, problem))
    return jobs


def _common_folder(images: list[Path]) -> Path:
    try:
        return Path(os.path.commonpath([os.path.abspath(image.parent) for image in images]))
    except ValueError:  # on Windows, inputs on different drives share no folder
        raise UsageError("--keep-folders needs inputs that share a folder (they are on different drives)") from None


def _masks_by_stem(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and is_image_path(path):
            found.setdefault(path.stem, path)
    return found


def check_outputs(jobs: list[Job], *, synthesized: bool, overwrite: bool, batch: bool) -> None:
    """Refuse, before any work, outputs that cannot be written, that two inputs would share,
    that are an input or mask of this run or another output's synthesized-pixels mask, and
    (unless ``overwrite``) outputs that already exist."""
    for job in jobs:
        try:
            format_for_path(job.output)
        except UnsupportedImageError as exc:
            raise UsageError(str(exc).rstrip(".")) from None
    read = {}
    for job in jobs:
        for role, path in (("original", job.image), ("mask", job.mask)):
            if path is not None:
                read.setdefault(_identity(path), (role, path))
    written: dict[object, list[tuple[Job, Path]]] = {}
    for job in jobs:
        for path in job.writes(synthesized):
            written.setdefault(_identity(path), []).append((job, path))
    shared: dict[tuple[Path, ...], Path] = {}  # one line per group of inputs, naming its first shared file
    for writers in written.values():
        sources = tuple(dict.fromkeys(job.image for job, _ in writers))
        if len(sources) > 1:
            shared.setdefault(sources, writers[0][1])
    clashes = [f"{len(sources)} inputs would write {path}: {', '.join(map(str, sources))}"
               for sources, path in shared.items()]
    if clashes:
        apart = any(len({os.path.abspath(source.parent) for source in sources}) > 1 for sources in shared)
        hint = "; add --keep-folders to keep their folders apart under --out-dir" if batch and apart else ""
        raise UsageError("; ".join(clashes) + hint)
    for key, writers in written.items():
        if key in read:
            role, path = read[key]
            job, target = writers[0]
            raise UsageError(f"the output {target} of {job.image} would overwrite the {role} {path}")
    for job in jobs:
        for path in (job.output, synthesized_mask_path(job.output) if synthesized else None):
            owner = owner_of(path, job.output) if path is not None else None
            if owner is not None:
                raise UsageError(f"{path} is the synthesized-pixels mask of {owner} (its sidecar names it); "
                                 "choose another output name")
            if path is not None and path.exists() and not path.is_file():
                raise UsageError(f"the output {path} exists and is not a file")
        sidecar = sidecar_path(job.output)
        if len(os.fsencode(sidecar.name)) > _longest_name(job.output.parent):
            raise UsageError(f"the output name {job.output.name} is too long for its sidecar "
                             f"({sidecar.name}); choose a shorter name")
    if not overwrite:  # a sidecar alone describes an image that is gone: it is simply replaced
        existing = [str(path) for job in jobs for path in job.writes(synthesized)
                    if path != sidecar_path(job.output) and path.exists()]
        if len(existing) == 1:
            raise UsageError(f"an output already exists: {existing[0]}; add --overwrite to replace it")
        if existing:
            shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
            raise UsageError(f"{len(existing)} outputs already exist: {shown}; add --overwrite to replace them")


def _longest_name(folder: Path) -> int:
    """The longest file name the output's file system takes (255 bytes where it cannot say)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf
        return 255


def _identity(path: Path) -> object:
    """What makes two paths one file: the inode of an existing file (links included), else
    the resolved path."""
    try:
        info = path.stat()
        return (info.st_dev, info.st_ino)
    except OSError:
        return str(path.resolve())


def prepare_output_folders(jobs: list[Job], *, create: bool) -> None:
    """Create (for a batch) the output folders and prove each one writable with a temporary file."""
    for folder in dict.fromkeys(job.output.parent for job in jobs):
        if not create and not folder.is_dir():
            raise UsageError(f"the output folder '{folder}' does not exist" if not folder.exists()
                             else f"'{folder}' is not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise UsageError(f"the output folder '{folder}' cannot be created: a file has that name") from None
        except OSError as exc:
            if not folder.is_dir():
                raise UsageError(f"the output folder '{folder}' does not exist and cannot be created: "
                                 f"{exc.strerror or exc}") from None
        try:
            stage_write(folder / ".restorer-write-test", lambda handle: None).discard()
        except ImageWriteError as exc:
            reason = str(exc).rstrip(".")
            raise UsageError(reason[0].lower() + reason[1:]) from None


class UsageError(Exception):
    pass


def run_inpaint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = plan_jobs(args)
    batch = len(jobs) > 1 or args.mask_dir is not None
    check_outputs(jobs, synthesized=args.save_synthesized_mask, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    inpainter = Inpainter()
    request = InpaintRequest(method=args.method, prompt=args.prompt, seed=args.seed, device=Device(args.device),
                             feather=args.feather, harmonize=args.match_colour, grain=args.grain,
                             quick=args.quick)
    max_pixels = None if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    failures: list[tuple[Path, str]] = []
    shown_notices: set[str] = set()
    for number, job in enumerate(jobs, start=1):
        prefix = f"[{number}/{len(jobs)}] {job.image.name}: " if batch else ""
        progress = ConsoleProgress(err, prefix)
        try:
            if job.problem:
                raise MaskError(job.problem[0].upper() + job.problem[1:] + ".")
            image = load_image(job.image, max_pixels=max_pixels, page=args.page)
            for notice in image.info.notices:  # pages left out, CMYK converted: said before the fill
                hint = " Choose another with --page N." if image.info.page_count > 1 else ""
                err.write(f"restorer: note: {notice}{hint}\n")
            mask = load_mask(job.mask, (image.height, image.width), max_pixels=max_pixels)
            result = inpainter.inpaint(image, mask, request, progress)
            operation = operation_for(result, request, mask)
            export_with_record(image.with_pixels(result.pixels), job.output, [operation], source=job.image,
                               synthesized=mask if args.save_synthesized_mask else None,
                               jpeg_quality=args.jpeg_quality, protect=(job.image, job.mask),
                               overwrite=args.overwrite)
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
        for notice in result.notices:
            if notice not in shown_notices:
                shown_notices.add(notice)
                err.write(f"restorer: note: {notice}\n")
        if job.output.suffix.lower() in (".jpg", ".jpeg"):
            _warn_once(err, shown_notices, f"JPEG output is lossy (quality {args.jpeg_quality}); use PNG or TIFF to keep every pixel.")
        summary = (f"{job.output}  ({result.method_label} on {result.provider}, "
                   f"{result.changed_pixels} pixels in {result.regions} regions, {result.seconds:.2f} s)")
        (err if batch else out).write(f"{prefix}{summary}\n" if batch else f"{summary}\n")
    if failures:
        err.write(f"restorer: {len(failures)} of {len(jobs)} images failed:\n")
        for path, reason in failures:
            err.write(f"  {path}: {reason}\n")
        return EXIT_FAILED
    return EXIT_OK


def _warn_once(err: TextIO, shown: set[str], message: str) -> None:
    if message not in shown:
        shown.add(message)
        err.write(f"restorer: warning: {message}\n")


def run_models(args: argparse.Namespace, out: TextIO) -> int:
    inpainter = Inpainter()
    registry = inpainter.registry
    rows = [("ID", "KIND", "VERSION", "STATUS", "NAME")]
    import cv2

    rows += [(m, "classical", f"opencv-{cv2.__version__}", "ready", label)
             for m, label in (("telea", "Telea fast marching"), ("ns", "Navier-Stokes"))]
    for entry in registry.entries():  # every file's size and sha256 are checked: a few hundred ms
        status = registry.status(entry)
        if status is ModelStatus.READY and registry.problem(entry) is not None:
            status = ModelStatus.CORRUPT
        default = " (default)" if entry.default and entry.kind is ModelKind.INPAINT else ""
        rows.append((entry.id, entry.kind.value, entry.version, status.value, entry.name + default))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] + "\n")
    for problem in inpainter.model_problems():
        out.write(f"warning: {problem}\n")
    return EXIT_OK


def run_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Report, for each output, whether image, sidecar, XMP and mask agree, and which fills made it."""
    failed = 0
    for path in args.outputs:
        try:
            verified = verify_output(path)
        except RestorerError as exc:
            failed += 1
            err.write(f"restorer: not verified: {exc}\n")
            continue
        out.write(f"{path}: consistent with {verified.sidecar.name} (checked: {', '.join(verified.checked)})\n")
        source = verified.record.get("source")
        if isinstance(source, dict):
            out.write(f"  source {source.get('name')}, sha256 {source.get('sha256')}\n")
        for number, op in enumerate(verified.operations, start=1):
            out.write(f"  fill {number}: {_describe_fill(op)}\n")
    return EXIT_FAILED if failed else EXIT_OK


def _describe_fill(op: dict) -> str:
    parts = [str(op.get("method_label") or op.get("method"))]
    if op.get("model_id"):
        parts.append(f"model {op['model_id']} {op.get('model_version')}")
    parts.append(f"{op.get('pixels_changed')} pixels")
    if op.get("pixels_classical"):
        parts.append(f"{op['pixels_classical']} of them classical")
    parts += [str(op.get("time")), f"on {op.get('device')}", f"seed {op.get('seed')}"]
    if op.get("description"):
        parts.append(f"description \"{op['description']}\"")
    return ", ".join(parts)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stop like Ctrl-C (temporary files removed), exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame) -> None:
    raise Stopped(signum)


def _handle_stop_signals() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, _stop)
    return previous


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    # A file name that is not UTF-8 must not turn a success into a crash: stdout gives its bytes
    # back as they were (like ls), stderr escapes them (Python's default there).
    if out is sys.stdout and hasattr(out, "reconfigure"):
        out.reconfigure(errors="surrogateescape")
    parser = build_parser()
    args = parser.parse_args(argv)
    previous_handlers = _handle_stop_signals()
    try:
        if args.command == "inpaint":
            return run_inpaint(args, out, err)
        if args.command == "verify":
            return run_verify(args, out, err)
        if args.command == "models":
            return run_models(args, out)
        parser.print_help(err)
        return EXIT_USAGE
    except UsageError as exc:
        err.write(f"restorer: usage error: {exc}\n")
        return EXIT_USAGE
    except Stopped as stop:
        err.write(f"\nrestorer: cancelled ({signal.Signals(stop.signum).name})\n")
        return 128 + stop.signum
    except (OperationCancelled, KeyboardInterrupt):
        err.write("\nrestorer: cancelled\n")
        return EXIT_INTERRUPTED
    except RestorerError as exc:
        if args.debug:
            traceback.print_exc(file=err)
        err.write(f"restorer: error: {exc}\n")
        return EXIT_FAILED
    except Exception as exc:  # an engine bug: still one line unless --debug
        if args.debug:
            traceback.print_exc(file=err)
        err.write(f"restorer: internal error: {type(exc).__name__}: {exc} (run with --debug for details)\n")
        return EXIT_FAILED
    finally:
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    sys.exit(main())
