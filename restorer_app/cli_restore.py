"""`restorer restore`: the whole photo through the restoration model (denoise, de-JPEG, sharpen
at given or estimated strengths, then fade and colour-cast correction), with the same checks
before any work as `inpaint` (cli_jobs) and a record of the model, the strengths and which of
them were estimated.

Restore first, then fill: a restored output is an ordinary photo for `repair` and `inpaint`.
Each output's sidecar records its own step and its source's sha256; the embedded XMP history
keeps the source's events, so a repaired restore carries both in its file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from .cli_jobs import ConsoleProgress, Job, check_options, check_outputs, plan_outputs, prepare_output_folders
from .cli_repair import _load, _run_jobs
from .engine.export import export_with_record
from .engine.chain import RESTORE, Chain, ChainSettings
from .engine.pipeline import AUTO
from .engine.restoration import RestoreOptions
from .engine.runtime import Device

OFF = "off"
COLOUR_CHOICES = (AUTO, OFF)


def strength(text: str) -> float | None:
    """``auto`` (None: estimated from the photo) or a number from 0 to 1."""
    if text.strip().lower() == AUTO:
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither 'auto' nor a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text} is outside 0 to 1 (0 = leave alone, 1 = the most)")
    return value


def add_restore_command(commands) -> None:
    """The ``restore`` sub-command."""
    restore = commands.add_parser("restore", help="denoise, de-JPEG, sharpen and correct the colour of whole photos")
    restore.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    restore.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file for a single IMAGE")
    restore.add_argument("--out-dir", type=Path, help="folder for batch outputs (same file names)")
    restore.add_argument("--keep-folders", action="store_true",
                         help="in a batch, keep the inputs' folders (below their common folder) under --out-dir")
    for name, what in (("denoise", "noise and grain to remove (1 = noise of sigma 30 levels)"),
                       ("deblock", "JPEG blocking to remove (1 = quality 10; (100 - Q) / 90)"),
                       ("sharpen", "blur to undo (1 = a Gaussian blur of 3 px)")):
        restore.add_argument(f"--{name}", type=strength, default=None, metavar="auto|S",
                             help=f"{what}: 0 = leave alone; auto (default) estimates it from the photo")
    restore.add_argument("--colour", choices=COLOUR_CHOICES, default=OFF,
                         help="correct fading and colour casts with the model's curves (auto) or leave the "
                              "colours as they are (off, the default: a dark, misty or toned photo can be taken "
                              "for a faded one, so correct colour where you mean to)")
    restore.add_argument("--model", default=None, metavar="MODEL_ID",
                         help="a restoration model other than the default (see 'restorer models')")
    restore.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    restore.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    restore.add_argument("--jpeg-quality", type=int, default=95, metavar="Q",
                         help="quality 1-100 when the output is JPEG (lossy; default 95)")
    restore.add_argument("--page", type=int, default=None, metavar="N",
                         help="page of a multi-page TIFF, from 1 (default: the largest page)")
    restore.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                         help="refuse images larger than this (default: $RESTORER_MAX_MEGAPIXELS or 300)")
    restore.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run_restore(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = plan_outputs(args)
    batch = args.out_dir is not None
    check_outputs(jobs, synthesized=False, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    # Opened once for the whole run: a missing or damaged model stops it before any photo is read.
    options = RestoreOptions(args.denoise, args.deblock, args.sharpen, colour=args.colour == AUTO)
    chain = Chain(ChainSettings(op=RESTORE, restore=options, device=Device(args.device), restore_model=args.model))
    for notice in chain.notices:
        err.write(f"restorer: note: {notice}\n")
    if any(job.output.suffix.lower() in (".jpg", ".jpeg") for job in jobs):
        err.write(f"restorer: warning: JPEG output is lossy (quality {args.jpeg_quality}); use PNG or TIFF to keep "
                  "every pixel.\n")

    def one(job: Job, progress: ConsoleProgress) -> str:
        image = _load(job, args, err)
        done = chain.run(image, None, progress)
        result, (operation,) = done.restored, done.operations
        export_with_record(image.with_pixels(result.pixels), job.output, done.operations, source=job.image,
                           jpeg_quality=args.jpeg_quality, protect=(job.image,), overwrite=args.overwrite)
        return (f"{job.output}  (restored by {result.model.id} {result.model.version} on {result.provider}: "
                f"{operation.restore_summary}; {result.changed_pixels} pixels changed, {result.seconds:.2f} s)")

    return _run_jobs(jobs, one, batch, out, err)
