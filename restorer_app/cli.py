"""The `restorer` command: the same engine as the GUI, headless.

Contract (scripts depend on it; keep it stable):
    restorer inpaint IMAGE --mask MASK -o OUT [--method auto|telea|ns|MODEL_ID]
                     [--prompt TEXT] [--seed N] [--device auto|cpu|cuda]
    restorer inpaint IMAGE... --mask-dir DIR --out-dir DIR [...]
    restorer detect IMAGE -o MASK [--threshold T] [--grow PX] [--device auto|cpu|cuda]
                    [--save-probability]
    restorer detect IMAGE... --out-dir DIR [...]         # DIR/<stem>.png, what --mask-dir reads
    restorer repair IMAGE -o OUT [--threshold T] [--grow PX] [--method auto|telea|ns|MODEL_ID]
                    [--device auto|cpu|cuda] [--save-synthesized-mask]
    restorer repair IMAGE... --out-dir DIR [--keep-folders] [...]
    restorer restore IMAGE -o OUT [--denoise auto|S] [--deblock auto|S] [--sharpen auto|S]
                     [--colour auto|off] [--model MODEL_ID] [--device auto|cpu|cuda]
    restorer restore IMAGE... --out-dir DIR [--keep-folders] [...]
    restorer verify OUT...
    restorer models
    restorer --version
A detected mask is a 0/255 single-channel image of the photo's size (no sidecar: it changes
no photo). ``repair`` detects, grows the mask by ``--grow`` (default 1 px) and fills it as
``inpaint --method auto`` would; its record also names the detector and the threshold. A
repair that finds no damage still writes OUT, an unchanged copy recording no fills, and says
so on stderr. ``restore`` runs the whole photo through the restoration model at strengths
0..1 (``auto``: estimated from the photo), then corrects fading and casts unless
``--colour off``; its record names the model, the strengths and which were estimated. Every output gets embedded retouching tags and a ``OUT.restorer.json`` sidecar
(source and output sha256, one record per operation), written so that ``restorer verify``
can tell a complete pair from an interrupted one. Outputs and options are checked before any
fill; an existing output is replaced only with ``--overwrite``. Exit 0 on success, 1 when an
input failed (or, for verify, an output does not match its record), 2 on usage errors, 130
when interrupted (Ctrl-C), 128 + N when stopped by signal N (143 for SIGTERM). Errors are one
readable line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import signal
from dataclasses import replace
import sys
import threading
import traceback
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .cli_jobs import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ConsoleProgress, Job, UsageError,
                       check_options, check_outputs, plan_jobs, prepare_output_folders, with_variations)
from .cli_generate import add_extend_command, run_extend
from .cli_repair import add_detect_commands, run_detect, run_repair
from .cli_restore import add_restore_command, run_restore
from .cli_batch import add_batch_command, run_batch_command
from .engine.errors import MaskError, OperationCancelled, RestorerError
from .engine.imageio import load_image
from .engine.masks import load_mask
from .engine.pipeline import AUTO, DEFAULT_GRAIN, DESCRIBED_WIDTH, InpaintRequest, Inpainter
from .engine.export import export_with_record, verify_output
from .engine.provenance import EXTEND_ACTION, RESTORE_ACTION, operation_for
from .engine.registry import ModelKind, ModelStatus
from .engine.runtime import Device



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
    inpaint.add_argument("--seed", type=int, default=0,
                         help="picks the variation of a generated fill (torn edges, large losses) and the texture; "
                              "recorded with the fill (default 0)")
    inpaint.add_argument("--variations", type=int, default=1, metavar="N",
                         help="make N fills with seeds SEED, SEED+1, ...: OUT's stem + '-v1' ... '-vN' (default 1)")
    inpaint.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    inpaint.add_argument("--feather", type=int, default=0, metavar="PX",
                         help="soft edge: the fill fades into the original over PX pixels inside the mask")
    inpaint.add_argument("--match-colour", action="store_true",
                         help="shift a learned fill's colour and brightness to match its surroundings")
    inpaint.add_argument("--grain", type=float, default=DEFAULT_GRAIN, metavar="S",
                         help="give a learned fill the film grain and fine texture around it: 0 = off, "
                              f"1 = as much as the surroundings (default {DEFAULT_GRAIN:g})")
    inpaint.add_argument("--no-source", type=Path, default=None, metavar="MASK",
                         help="a mask of the photo's size (white = kept out): those pixels are never copied into "
                              "a learned fill as texture, e.g. a face or lettering beside a hole")
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

    add_detect_commands(commands)
    add_restore_command(commands)
    add_extend_command(commands)
    add_batch_command(commands)

    verify = commands.add_parser("verify", help="check outputs against their sidecars and embedded XMP")
    verify.add_argument("outputs", nargs="+", type=Path, metavar="OUT")
    verify.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    models = commands.add_parser("models", help="list the installed fill methods and models")
    models.add_argument("--verify", action="store_true",
                        help="check every model file's sha256 (always done; kept for scripts)")
    models.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def run_inpaint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = plan_jobs(args)
    batch = len(jobs) > 1 or args.mask_dir is not None
    jobs = with_variations(jobs, args.variations)
    check_outputs(jobs, synthesized=args.save_synthesized_mask, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    inpainter = Inpainter()
    request = InpaintRequest(method=args.method, prompt=args.prompt, seed=args.seed, device=Device(args.device),
                             feather=args.feather, harmonize=args.match_colour, grain=args.grain,
                             quick=args.quick)
    max_pixels = None if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    failures: list[tuple[Path, str]] = []
    shown_notices: set[str] = set()
    loaded: tuple[Job, object, object] | None = None  # the variations of one input read it once
    for number, job in enumerate(jobs, start=1):
        prefix = f"[{number}/{len(jobs)}] {job.image.name}: " if batch else ""
        progress = ConsoleProgress(err, prefix)
        try:
            if job.problem:
                raise MaskError(job.problem[0].upper() + job.problem[1:] + ".")
            if loaded is not None and job.variation > 1 and (loaded[0].image, loaded[0].mask) == (job.image, job.mask):
                image, mask = loaded[1], loaded[2]
            else:
                image = load_image(job.image, max_pixels=max_pixels, page=args.page)
                for number_said, notice in enumerate(image.info.notices):  # pages left out, CMYK converted
                    # The pages notice comes first whenever the file has several pages.
                    hint = " Choose another with --page N." if number_said == 0 and image.info.page_count > 1 else ""
                    err.write(f"restorer: note: {notice}{hint}\n")
                mask = load_mask(job.mask, (image.height, image.width), max_pixels=max_pixels)
                loaded = (job, image, mask)
            asked = replace(request, seed=args.seed + job.variation - 1) if job.variation else request
            if args.no_source is not None:
                asked = replace(asked, no_source=load_mask(args.no_source, (image.height, image.width),
                                                           max_pixels=max_pixels))
            result = inpainter.inpaint(image, mask, asked, progress)
            operation = replace(operation_for(result, asked, mask), variation=job.variation)
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
        default = " (default)" if ((entry.default and entry.kind is ModelKind.INPAINT)
                                   or (entry.kind in (ModelKind.DETECT, ModelKind.RESTORE, ModelKind.GENERATE)
                                       and registry.default_entry(entry.kind) is entry)) else ""
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
            if op.get("action") == RESTORE_ACTION:
                out.write(f"  restore {number}: {_describe_restore(op)}\n")
            else:
                out.write(f"  fill {number}: {_describe_fill(op)}\n")
    return EXIT_FAILED if failed else EXIT_OK


def _describe_restore(op: dict) -> str:
    """'model restorer-restore 1.0, denoise 0.31 (auto), deblock 0, sharpen 0, colour corrected, ...'."""
    strengths = []
    for name in ("denoise", "deblock", "sharpen"):
        auto = f" (auto, estimated by {op.get('strengths_estimated_by')})" if op.get(f"{name}_auto") else ""
        strengths.append(f"{name} {op.get(name)}{auto}")
    colour = ("colour corrected" if op.get("colour_changed") else
              "colour checked, nothing to correct" if op.get("colour_correction") else "colour correction off")
    return ", ".join([f"model {op.get('model_id')} {op.get('model_version')}", *strengths, colour,
                      f"{op.get('pixels_changed')} pixels changed", str(op.get("time")), f"on {op.get('device')}"])


def _describe_fill(op: dict) -> str:
    parts = [str(op.get("method_label") or op.get("method"))]
    if op.get("model_id"):
        parts.append(f"model {op['model_id']} {op.get('model_version')}")
    parts.append(f"{op.get('pixels_changed')} pixels")
    if op.get("pixels_classical"):
        parts.append(f"{op['pixels_classical']} of them classical")
    if op.get("detector_id"):  # a repair: the mask came from the damage detector
        grown = f", grown {op['detection_grow']} px" if op.get("detection_grow") else ""
        parts.append(f"mask detected by {op['detector_id']} {op.get('detector_version')} at threshold "
                     f"{op.get('detection_threshold')}{grown}")
    if op.get("generator_id"):
        parts.append(f"{op.get('pixels_generated')} of them generated by {op['generator_id']} "
                     f"{op.get('generator_version')}")
    if op.get("action") == EXTEND_ACTION:
        parts.append(f"canvas extended by {op.get('extend_top')},{op.get('extend_right')},{op.get('extend_bottom')},"
                     f"{op.get('extend_left')} px (top, right, bottom, left)")
    parts += [str(op.get("time")), f"on {op.get('device')}", f"seed {op.get('seed')}"]
    if op.get("variation"):
        parts.append(f"variation {op['variation']}")
    if op.get("no_source_pixels"):
        parts.append(f"{op['no_source_pixels']} pixels kept out of copying")
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
        if args.command == "detect":
            return run_detect(args, out, err)
        if args.command == "repair":
            return run_repair(args, out, err)
        if args.command == "restore":
            return run_restore(args, out, err)
        if args.command == "extend":
            return run_extend(args, out, err)
        if args.command == "batch":
            return run_batch_command(args, out, err)
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
