"""A batch: many photos through one chain (engine/chain.py), each to its own output with its
record, and a results manifest that makes the run resumable. Qt-free, and free of any
scheduler: the command line runs tasks one after another or on a Dask cluster
(restorer_app/cluster.py), the window's Batch dialog on its job thread; all call
:func:`run_task`, so an output is the same whoever made it.

- **Tasks** (:func:`plan_tasks`): inputs are files, folders (their images, sorted; not
  their subfolders) or lists of photos (``.txt``: one path per line, relative to the list's
  folder; an archive's manifest); each output is ``OUT_DIR/<name>`` (or the input's folder below their common
  folder, ``keep_folders``); the mask of ``scan.tif`` for ``inpaint`` is ``MASK_DIR/scan.*`` or
  ``MASK_DIR/scan_mask.*``.
- **Done** means verified, not remembered: a task is skipped when its output exists, agrees with
  its own sidecar (export.verify_output) and that sidecar names this input's sha256. So a rerun
  skips what is done even when the manifest lost its last lines (a killed worker, a full disk),
  redoes what failed or was cut off, and never mistakes someone else's file for its work.
- **The manifest** (:class:`ResultsLog`) is JSON Lines, one line per finished task (input,
  output, both sha256s, op, method, models, seconds, error), appended and flushed to disk line
  by line, so it is readable at any moment and the last line of a crash is at worst cut off.
- **Outputs are atomic** (export.export_with_record): a task killed halfway leaves no output,
  only temporary files the next export to that name removes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .chain import Chain
from .errors import OperationCancelled, RestorerError
from .export import RecordMismatchError, export_with_record, sidecar_path, verify_output
from .files import sha256_file
from .image_formats import is_image_path
from .imageio import load_image
from .masks import load_mask
from .progress import PrefixedProgress, Progress
from .provenance import now_iso

DONE, FAILED, SKIPPED = "done", "failed", "skipped"
RESULTS_NAME = "restorer-results.jsonl"


@dataclass(frozen=True)
class BatchTask:
    image: Path
    output: Path
    mask: Path | None = None
    #: Why the task cannot run (no mask for it); it is reported as failed.
    problem: str | None = None


@dataclass(frozen=True)
class BatchOutcome:
    input: str
    output: str
    status: str
    op: str
    input_sha256: str | None = None
    output_sha256: str | None = None
    method: str = ""
    models: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    finished: str = ""
    #: Which process made it ("pid 1234 on host", a Dask worker's address), for a cluster's log.
    worker: str = ""

    def line(self) -> str:
        values = asdict(self)
        values["models"] = list(self.models)
        return json.dumps(values, ensure_ascii=False)


# --------------------------------------------------------------------------- planning


def plan_tasks(inputs: list[Path], out_dir: Path, *, mask_dir: Path | None = None, keep_folders: bool = False,
               needs_mask: bool = False) -> list[BatchTask]:
    """One task per input image (a folder stands for its images); raises RestorerError with a
    sentence for inputs that are not there and for an output folder that is a file."""
    images: list[Path] = []
    for path in inputs:
        path = Path(path)
        if path.is_dir():
            images += sorted(p for p in path.iterdir() if p.is_file() and is_image_path(p))
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            images += read_list(path)
        elif path.is_file():
            images.append(path)
        else:
            raise RestorerError(f"'{path}' does not exist.")
    if not images:
        raise RestorerError("There is no photo to work on: the folders and lists given hold no images.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise RestorerError(f"The output folder '{out_dir}' is a file, not a folder.")
    if needs_mask and (mask_dir is None or not Path(mask_dir).is_dir()):
        raise RestorerError("Filling given masks needs a mask folder that exists"
                            + (f"; '{mask_dir}' does not." if mask_dir else "."))
    masks = masks_by_stem(Path(mask_dir)) if needs_mask else {}
    base = Path(os.path.commonpath([os.path.abspath(p.parent) for p in images])) if keep_folders else None
    tasks, seen = [], {}
    for image in images:
        place = Path(os.path.abspath(image)).relative_to(base) if base else Path(image.name)
        output = out_dir / place
        if output in seen:
            raise RestorerError(f"'{image}' and '{seen[output]}' would both be written to '{output}'; "
                                "keep their folders (--keep-folders) or rename one.")
        seen[output] = image
        mask, problem = None, None
        if needs_mask:
            mask = mask_for(masks, image)
            problem = None if mask else f"no mask named '{image.stem}.*' in {mask_dir}"
        tasks.append(BatchTask(image, output, mask, problem))
    return tasks


#: Inputs that list photos rather than being one.
LIST_SUFFIXES = (".txt",)


def read_list(path: Path) -> list[Path]:
    """The photos a list names: one path per line, relative paths from the list's folder;
    blank lines and lines starting with ``#`` are skipped. The photos are not looked at here
    (an archive's list can name a million files on a network share): one that is not there
    fails as its task runs, with its reason in the manifest, and the others go on."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RestorerError(f"'{path}' is not a list of photos (one path per line, UTF-8 text).") from None
    except OSError as exc:
        raise RestorerError(f"'{path}' cannot be read: {exc.strerror or exc}.") from None
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            photo = Path(line).expanduser()
            found.append(photo if photo.is_absolute() else path.parent / photo)
    return found


def masks_by_stem(folder: Path) -> dict[str, Path]:
    """The images in ``folder`` by file stem (the first of several with one stem, sorted)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and is_image_path(path):
            found.setdefault(path.stem, path)
    return found


# ------------------------------------------------------------------------------ done?


def mask_for(masks: dict[str, Path], image: Path) -> Path | None:
    """The mask of ``image`` among ``masks`` (by stem): ``scan.*``, else ``scan_mask.*``."""
    return masks.get(image.stem) or masks.get(f"{image.stem}_mask")


def done_record(task: BatchTask) -> dict | None:
    """The sidecar record of the task's output when the output exists, agrees with it, and it
    names this input as it is now (its sha256): the work is done and need not run again.
    None otherwise."""
    if not task.output.is_file():
        return None
    try:
        record = verify_output(task.output).record
        source = record.get("source") or {}
        return record if source.get("sha256") == sha256_file(task.image) else None
    except (RecordMismatchError, OSError):
        return None


def is_done(task: BatchTask) -> bool:
    return done_record(task) is not None


# ----------------------------------------------------------------------------- running


def run_task(chain: Chain, task: BatchTask, *, jpeg_quality: int = 95, synthesized: bool = False,
             overwrite: bool = False, progress: Progress | None = None, worker: str = "",
             max_pixels: int | None = None, page: int | None = None) -> BatchOutcome:
    """Run one task to its output and record; failures are outcomes, not exceptions (except
    a cancel, which stops the batch). An output already there is replaced only when it is an
    earlier attempt at this very task (its sidecar names this input) or ``overwrite``."""
    started = time.perf_counter()
    op = chain.settings.op
    base = dict(input=str(task.image), output=str(task.output), op=op, worker=worker)
    input_sha = None
    try:
        if task.problem:
            raise RestorerError(task.problem[0].upper() + task.problem[1:] + ".")
        image = load_image(task.image, max_pixels=max_pixels, page=page)
        input_sha = image.info.source_sha256 or sha256_file(task.image)
        mask = (load_mask(task.mask, (image.height, image.width), max_pixels=max_pixels)
                if chain.settings.needs_mask else None)
        result = chain.run(image, mask, progress)
        task.output.parent.mkdir(parents=True, exist_ok=True)
        replace = overwrite or _earlier_attempt(task.output, input_sha)
        export_with_record(image.with_pixels(result.pixels), task.output, result.operations, source=task.image,
                           source_sha256=input_sha,
                           synthesized=(result.filled if result.filled is not None else result.detected)
                           if synthesized else None,
                           jpeg_quality=jpeg_quality, protect=tuple(p for p in (task.image, task.mask) if p),
                           overwrite=replace)
    except OperationCancelled:
        raise
    except (RestorerError, OSError, MemoryError) as exc:
        message = str(exc) if isinstance(exc, RestorerError) else (
            "there was not enough memory for it" if isinstance(exc, MemoryError) else f"{exc.strerror or exc}")
        return BatchOutcome(**base, status=FAILED, input_sha256=input_sha, seconds=time.perf_counter() - started,
                            error=message, finished=now_iso())
    return BatchOutcome(**base, status=DONE, input_sha256=input_sha, output_sha256=sha256_file(task.output),
                        method=result.method, models=tuple(result.models), seconds=time.perf_counter() - started,
                        finished=now_iso())


def skipped_outcome(task: BatchTask, op: str, record: dict) -> BatchOutcome:
    """The outcome of a task found done; ``record`` is its output's verified sidecar
    (:func:`done_record`), whose checksums were just checked, so nothing is hashed again."""
    return BatchOutcome(input=str(task.image), output=str(task.output), status=SKIPPED, op=op,
                        input_sha256=record["source"]["sha256"], output_sha256=record["output"]["sha256"],
                        finished=now_iso())


def _earlier_attempt(output: Path, input_sha: str) -> bool:
    """An output whose sidecar names this input: this task's own earlier (perhaps cut-off) work."""
    try:
        record = json.loads(sidecar_path(output).read_text(encoding="utf-8"))
        return (record.get("source") or {}).get("sha256") == input_sha
    except (OSError, ValueError, AttributeError):
        return False


# ------------------------------------------------------------------------------ manifest


def _ends_with_newline(handle) -> bool:
    handle.seek(-1, os.SEEK_END)
    last = handle.read(1)
    handle.seek(0, os.SEEK_END)
    return last == b"\n"


class ResultsLog:
    """The results manifest: JSON Lines, one outcome per line, appended and synced one by one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, outcome: BatchOutcome) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            # A line cut off by a crash stays on its own: the next one starts on a new line.
            handle.seek(0, os.SEEK_END)
            cut_off = handle.tell() > 0 and not _ends_with_newline(handle)
            handle.write((("\n" if cut_off else "") + outcome.line() + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict]:
        """Every outcome recorded, oldest first; a line cut off by a crash is left out."""
        if not self.path.is_file():
            return []
        outcomes = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "input" in value and "status" in value:
                outcomes.append(value)
        return outcomes

    def latest(self) -> dict[str, dict]:
        """The last outcome of each input."""
        return {outcome["input"]: outcome for outcome in self.read()}


# --------------------------------------------------------------------------- in one process


def run_batch(chain: Chain, tasks: list[BatchTask], log: ResultsLog, *, jpeg_quality: int = 95,
              synthesized: bool = False, overwrite: bool = False, progress: Progress | None = None,
              on_outcome=None, max_pixels: int | None = None, page: int | None = None) -> list[BatchOutcome]:
    """Every task in turn, in this process: those already done are skipped (and logged as
    skipped), the others run and their outcomes are logged as each ends. ``progress`` counts
    photos (a photo's own progress moves within its share) and its cancel stops the batch
    between photos or inside one (raising OperationCancelled; what is done stays done).
    ``on_outcome(outcome, number)`` hears of each photo as it ends."""
    progress = progress or Progress()
    op = chain.settings.op
    outcomes = []
    count = len(tasks)
    for number, task in enumerate(tasks, start=1):
        progress.check_cancelled()
        share = PrefixedProgress(progress, (number - 1) / count, number / count,
                                 f"{task.image.name} ({number} of {count})")
        share.report(0.0)
        record = None if overwrite else done_record(task)
        if record is not None:
            outcome = skipped_outcome(task, op, record)
        else:
            outcome = run_task(chain, task, jpeg_quality=jpeg_quality, synthesized=synthesized,
                               overwrite=overwrite, progress=share, worker=f"pid {os.getpid()}",
                               max_pixels=max_pixels, page=page)
        log.append(outcome)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome, number)
    progress.report(1.0, f"{count} of {count}")
    return outcomes
