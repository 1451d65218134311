"""``restorer extend``: new margins around a photo, generated to continue it.

    restorer extend IMAGE --by TOP,RIGHT,BOTTOM,LEFT -o OUT [--prompt TEXT] [--seed N]
                    [--variations N] [--method auto|MODEL_ID] [--device auto|cpu|cuda]
    restorer extend IMAGE... --by ... --out-dir DIR [--keep-folders] [...]

Margins are pixels or percent of the side they extend (``10%``); one value sets all four, two
set top/bottom and left/right. The photo's own pixels are copied bit for bit; the new band is
filled like a torn edge (``auto`` gives it to the generation model when one is installed) and
recorded as synthesized (its mask is the band). ``--variations N`` writes ``OUT``'s stem +
``-v1`` ... ``-vN`` with seeds SEED, SEED + 1, ...
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import numpy as np

from .cli_jobs import (ConsoleProgress, Job, check_options, check_outputs, plan_outputs, prepare_output_folders,
                       with_variations)
from .cli_repair import _load, _run_jobs
from .engine.canvas import Margins, extend_canvas
from .engine.export import export_with_record
from .engine.imageio import RasterImage
from .engine.pipeline import AUTO, DEFAULT_GRAIN, InpaintRequest, Inpainter
from .engine.provenance import EXTEND_ACTION, operation_for
from .engine.runtime import Device


def add_extend_command(commands) -> None:
    extend = commands.add_parser("extend", help="add margins around photos and generate what continues them")
    extend.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    extend.add_argument("--by", required=True, metavar="TOP,RIGHT,BOTTOM,LEFT",
                        help="margins in pixels or percent of the side they extend, e.g. 0,10%%,0,10%% "
                             "(one value: all sides; two: top/bottom,left/right)")
    extend.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file for a single IMAGE")
    extend.add_argument("--out-dir", type=Path, help="folder for batch outputs (same file names)")
    extend.add_argument("--keep-folders", action="store_true", help="in a batch, keep the inputs' folders under --out-dir")
    extend.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    extend.add_argument("--method", default=AUTO, help="auto or a model id (see 'restorer models')")
    extend.add_argument("--prompt", default="", help="colour and look of what belongs in the new margins, "
                                                     "e.g. 'clear blue sky'")
    extend.add_argument("--seed", type=int, default=0, help="picks the variation (default 0)")
    extend.add_argument("--variations", type=int, default=1, metavar="N",
                        help="make N extensions with seeds SEED, SEED+1, ...: OUT's stem + '-v1' ... '-vN'")
    extend.add_argument("--grain", type=float, default=DEFAULT_GRAIN, metavar="S",
                        help=f"texture from the photo for the new band, 0-1 (default {DEFAULT_GRAIN:g})")
    extend.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    extend.add_argument("--jpeg-quality", type=int, default=95, metavar="Q", help="quality 1-100 for JPEG output")
    extend.add_argument("--save-synthesized-mask", action="store_true",
                        help="also write OUT's stem + '.synthesized.png': white where pixels were generated")
    extend.add_argument("--page", type=int, default=None, metavar="N", help="page of a multi-page TIFF, from 1")
    extend.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                        help="refuse images (before extending) larger than this")
    extend.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run_extend(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_options(args)
    jobs = plan_outputs(args)
    batch = len(jobs) > 1
    jobs = with_variations(jobs, args.variations)
    check_outputs(jobs, synthesized=args.save_synthesized_mask, overwrite=args.overwrite, batch=batch)
    prepare_output_folders(jobs, create=batch)
    inpainter = Inpainter()
    request = InpaintRequest(method=args.method, prompt=args.prompt, seed=args.seed, device=Device(args.device),
                             grain=args.grain)
    shown: set[str] = set()
    loaded: dict[Path, tuple[Margins, RasterImage, np.ndarray]] = {}  # the variations of one input read it once

    def one(job: Job, progress: ConsoleProgress) -> str:
        if job.image not in loaded:
            loaded.clear()
            image = _load(job, args, err)
            margins = Margins.parse(args.by, image.height, image.width)
            loaded[job.image] = (margins, *extend_canvas(image, margins))
        margins, canvas, mask = loaded[job.image]
        asked = replace(request, seed=args.seed + job.variation - 1) if job.variation else request
        result = inpainter.inpaint(canvas, mask, inpainter.for_extension(asked), progress)
        operation = replace(operation_for(result, asked, mask), action=EXTEND_ACTION, variation=job.variation,
                            extend_top=margins.top, extend_right=margins.right, extend_bottom=margins.bottom,
                            extend_left=margins.left)
        export_with_record(canvas.with_pixels(result.pixels), job.output, [operation], source=job.image,
                           synthesized=mask if args.save_synthesized_mask else None,
                           jpeg_quality=args.jpeg_quality, protect=(job.image,), overwrite=args.overwrite)
        for notice in result.notices:
            if notice not in shown:
                shown.add(notice)
                err.write(f"restorer: note: {notice}\n")
        return (f"{job.output}  ({canvas.width}x{canvas.height}, margins {margins} px, {result.method_label} on "
                f"{result.provider}, seed {asked.seed}, {result.seconds:.2f} s)")

    return _run_jobs(jobs, one, batch, out, err)
