"""Planning a `restorer inpaint`, `detect` or `repair` run before any work: which input goes
with which mask and output, and every reason to refuse the run up front (options out of range,
outputs that would collide, exist already, overwrite an input or a mask, or land in a folder
that cannot be written). A long batch must never fail at the end for a reason known at the
start. Also the console progress line every command reports on.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from .engine.batch import mask_for, masks_by_stem
from .engine.errors import ImageWriteError, UnsupportedImageError
from .engine.files import stage_write
from .engine.image_formats import format_for_path
from .engine.export import owner_of, sidecar_path, synthesized_mask_path
from .engine.progress import Progress


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """The command line asks for something Restorer refuses before any work (exit 2)."""


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


@dataclass(frozen=True)
class Job:
    image: Path
    mask: Path | None
    output: Path
    problem: str | None = None
    #: The output is a retouched photo with a sidecar record (a detected mask has none).
    record: bool = True
    #: Other files the job writes (a detected mask's probability map).
    extra: tuple[Path, ...] = ()
    #: One of several variations of the same fill (``--variations``): its number from 1, 0
    #: when only one is made.
    variation: int = 0

    def writes(self, synthesized: bool) -> list[Path]:
        """Every file this job puts on disk."""
        paths = [self.output, *([sidecar_path(self.output)] if self.record else []), *self.extra]
        return paths + [synthesized_mask_path(self.output)] if synthesized else paths


def check_options(args: argparse.Namespace) -> None:
    """Refuse out-of-range options before any file is read or model loaded."""
    # Options a command does not have are left alone (detect has no --seed, inpaint no --threshold).
    if not 1 <= getattr(args, "jpeg_quality", 95) <= 100:
        raise UsageError("--jpeg-quality must be between 1 and 100 (default 95; above 95 files grow for little gain)")
    if not 0 <= getattr(args, "seed", 0) <= 2**32 - 1:
        raise UsageError("--seed must be between 0 and 4294967295")
    if not 1 <= getattr(args, "variations", 1) <= MAX_VARIATIONS:
        raise UsageError(f"--variations must be between 1 and {MAX_VARIATIONS}")
    if getattr(args, "seed", 0) + getattr(args, "variations", 1) - 1 > 2**32 - 1:
        raise UsageError("--seed plus --variations must stay below 4294967296")
    if getattr(args, "feather", 0) < 0:
        raise UsageError("--feather must be 0 or more pixels")
    grain = getattr(args, "grain", 0.0)
    if not (math.isfinite(grain) and 0.0 <= grain <= 1.0):
        raise UsageError("--grain must be between 0 and 1")
    threshold = getattr(args, "threshold", 0.5)
    if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise UsageError("--threshold must be between 0 and 1 (the damage probability a pixel needs to be flagged)")
    if getattr(args, "grow", 0) < 0:
        raise UsageError("--grow must be 0 or more pixels")
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
    masks = masks_by_stem(args.mask_dir)
    base = _common_folder(args.images) if args.keep_folders else None
    jobs = []
    for image in args.images:
        mask = mask_for(masks, image)
        problem = None if mask else f"no mask named '{image.stem}.*' in {args.mask_dir}"
        place = Path(os.path.abspath(image)).relative_to(base) if base else Path(image.name)
        jobs.append(Job(image, mask, args.out_dir / place, problem))
    return jobs


#: The most variations one command makes of each fill.
MAX_VARIATIONS = 16


def variation_path(output: Path, number: int) -> Path:
    """``out.png`` -> ``out-v2.png`` for variation 2."""
    return output.with_name(f"{output.stem}-v{number}{output.suffix}")


def with_variations(jobs: list[Job], count: int) -> list[Job]:
    """Each job as ``count`` jobs writing ``<stem>-v1`` ... ``<stem>-vN`` (``count`` 1: unchanged);
    the variations of one input follow each other, so the input is read once."""
    if count == 1:
        return jobs
    return [replace(job, output=variation_path(job.output, number), variation=number)
            for job in jobs for number in range(1, count + 1)]


def plan_outputs(args: argparse.Namespace, *, batch_suffix: str | None = None) -> list[Job]:
    """Pair every input with its output for a command without masks to read (``detect``,
    ``repair``): ``-o OUT`` for one image, or ``--out-dir DIR`` for any number, where each
    output keeps the input's name (with ``batch_suffix`` as its extension when given)."""
    if args.output is not None and args.out_dir is not None:
        raise UsageError("use either -o (one image) or --out-dir (a batch), not both")
    if args.output is not None:
        if len(args.images) != 1:
            raise UsageError("-o takes exactly one IMAGE; use --out-dir for several")
        if args.keep_folders:
            raise UsageError("--keep-folders is for batches (--out-dir)")
        return [Job(args.images[0], None, args.output)]
    if args.out_dir is None:
        raise UsageError("give -o OUT for one image, or --out-dir DIR for a batch")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UsageError(f"the output folder '{args.out_dir}' is a file, not a folder")
    base = _common_folder(args.images) if args.keep_folders else None
    jobs = []
    for image in args.images:
        place = Path(os.path.abspath(image)).relative_to(base) if base else Path(image.name)
        jobs.append(Job(image, None, args.out_dir / (place.with_suffix(batch_suffix) if batch_suffix else place)))
    return jobs


def _common_folder(images: list[Path]) -> Path:
    try:
        return Path(os.path.commonpath([os.path.abspath(image.parent) for image in images]))
    except ValueError:  # on Windows, inputs on different drives share no folder
        raise UsageError("--keep-folders needs inputs that share a folder (they are on different drives)") from None


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
        if job.record and len(os.fsencode(sidecar.name)) > _longest_name(job.output.parent):
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
