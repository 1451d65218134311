"""The `restorer` command: the same engine as the GUI, headless.

Contract (scripts depend on it; keep it stable):
    restorer inpaint IMAGE --mask MASK -o OUT [--method auto|telea|ns|MODEL_ID]
                     [--prompt TEXT] [--seed N] [--device auto|cpu|cuda]
    restorer inpaint IMAGE... --mask-dir DIR --out-dir DIR [...]
    restorer models
    restorer --version
Every output gets embedded retouching tags and a ``OUT.restorer.json`` sidecar
(source and output sha256, one record per operation). Exit 0 on success, 1 when an input failed, 2 on usage errors, 130 when interrupted. Errors
are one readable line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .engine.errors import ImageWriteError, MaskError, OperationCancelled, RestorerError
from .engine.imageio import ImageInfo, RasterImage, is_image_path, load_image, same_file, save_image
from .engine.masks import load_mask
from .engine.pipeline import AUTO, DEFAULT_GRAIN, InpaintRequest, Inpainter
from .engine.progress import Progress
from .engine.provenance import embedded_tags, operation_for, write_sidecar, xmp_packet
from .engine.registry import ModelKind
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
    inpaint.add_argument("--method", default=AUTO, help="auto, telea, ns or a model id (see 'restorer models')")
    inpaint.add_argument("--prompt", default="",
                         help="colour and look of what belongs in the larger holes, e.g. 'clear blue sky' (sets "
                              "colour and brightness, not objects; best left empty when the surroundings show it)")
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
                         help="quality when the output is JPEG (lossy; default 95)")
    inpaint.add_argument("--save-synthesized-mask", action="store_true",
                         help="also write OUT's stem + '.synthesized.png': white where pixels were synthesized")
    inpaint.add_argument("--page", type=int, default=None, metavar="N",
                         help="page of a multi-page TIFF to repair, from 1 (default: the largest page)")
    inpaint.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                         help="refuse images larger than this (default: $RESTORER_MAX_MEGAPIXELS or 300)")
    inpaint.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    models = commands.add_parser("models", help="list the installed fill methods and models")
    models.add_argument("--verify", action="store_true", help="also check every model file's sha256")
    models.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


@dataclass(frozen=True)
class Job:
    image: Path
    mask: Path | None
    output: Path
    problem: str | None = None


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
        return [Job(args.images[0], args.mask, args.output)]
    if args.mask_dir is None or args.out_dir is None:
        raise UsageError("give --mask MASK -o OUT for one image, or --mask-dir DIR --out-dir DIR")
    if not args.mask_dir.is_dir():
        raise UsageError(f"the mask folder '{args.mask_dir}' does not exist")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    masks = _masks_by_stem(args.mask_dir)
    jobs = []
    for image in args.images:
        mask = masks.get(image.stem) or masks.get(f"{image.stem}_mask")
        problem = None if mask else f"no mask named '{image.stem}.*' in {args.mask_dir}"
        jobs.append(Job(image, mask, args.out_dir / image.name, problem))
    return jobs


def _masks_by_stem(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and is_image_path(path):
            found.setdefault(path.stem, path)
    return found


class UsageError(Exception):
    pass


def run_inpaint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    jobs = plan_jobs(args)
    inpainter = Inpainter()
    if args.feather < 0:
        raise UsageError("--feather must be 0 or more pixels")
    if not 0.0 <= args.grain <= 1.0:
        raise UsageError("--grain must be between 0 and 1")
    request = InpaintRequest(method=args.method, prompt=args.prompt, seed=args.seed, device=Device(args.device),
                             feather=args.feather, harmonize=args.match_colour, grain=args.grain,
                             quick=args.quick)
    max_pixels = None if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    failures: list[tuple[Path, str]] = []
    shown_notices: set[str] = set()
    batch = len(jobs) > 1 or args.mask_dir is not None
    for number, job in enumerate(jobs, start=1):
        prefix = f"[{number}/{len(jobs)}] {job.image.name}: " if batch else ""
        progress = ConsoleProgress(err, prefix)
        try:
            if job.problem:
                raise MaskError(job.problem[0].upper() + job.problem[1:] + ".")
            image = load_image(job.image, max_pixels=max_pixels, page=args.page)
            for notice in image.info.notices:  # pages left out, CMYK converted: said before the fill
                err.write(f"restorer: note: {notice}\n")
            mask = load_mask(job.mask, (image.height, image.width), max_pixels=max_pixels)
            if same_file(job.output, job.image):  # refuse before spending time on the fill
                raise ImageWriteError(f"Refusing to overwrite the original '{job.image.name}'; choose another output.")
            result = inpainter.inpaint(image, mask, request, progress)
            operation = operation_for(result, request, mask)
            save_image(image.with_pixels(result.pixels), job.output, jpeg_quality=args.jpeg_quality,
                       extra_text=embedded_tags([operation]), xmp=xmp_packet([operation], image.info.xmp),
                       protect=(job.image, job.mask))
            synthesized = None
            if args.save_synthesized_mask:
                synthesized = job.output.with_name(job.output.stem + ".synthesized.png")
                save_image(RasterImage(mask[:, :, None], ImageInfo("PNG", 8)), synthesized,
                           protect=(job.image, job.mask))
            write_sidecar(job.output, job.image, [operation], synthesized)
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
    for entry in registry.entries():
        status = registry.status(entry).value
        if args.verify and status == "ready":
            try:
                registry.verify(entry)
            except RestorerError:
                status = "corrupt"
        default = " (default)" if entry.default and entry.kind is ModelKind.INPAINT else ""
        rows.append((entry.id, entry.kind.value, entry.version, status, entry.name + default))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] + "\n")
    for problem in registry.problems:
        out.write(f"warning: {problem}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "inpaint":
            return run_inpaint(args, out, err)
        if args.command == "models":
            return run_models(args, out)
        parser.print_help(err)
        return EXIT_USAGE
    except UsageError as exc:
        err.write(f"restorer: usage error: {exc}\n")
        return EXIT_USAGE
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


if __name__ == "__main__":
    sys.exit(main())
