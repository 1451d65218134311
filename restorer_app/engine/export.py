"""Writing an output together with its record, and checking later that they still agree.

One function writes the image (with its embedded tags and XMP), the sidecar
``<output>.restorer.json`` and the synthesized-pixels mask together
(:func:`export_with_record`); one checks them against each other (:func:`verify_output`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageWriteError, RestorerError
from .files import StagedFile, is_temporary_of, sha256_file, stage_write, sync_folder
from .image_formats import XMP_PNG_KEY, format_for_path, is_image_path
from .image_write import stage_image
from .imageio import ImageInfo, RasterImage
from .masks import holes_of, mask_of
from .provenance import Operation, app_version, embedded_tags, now_iso
from .xmp import event_marks, parse_xmp, qname, xmp_packet

SIDECAR_SUFFIX = ".restorer.json"
SIDECAR_FORMAT = 1
SYNTHESIZED_SUFFIX = ".synthesized.png"


def recorded_name(path: Path) -> str:
    """A file name as a record holds it: valid UTF-8 text, with the bytes of a name that is not
    (an old Latin-1 archive: ``caf\\xe9.tif``) written as backslash escapes."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SIDECAR_SUFFIX)


def synthesized_mask_path(output: Path) -> Path:
    """Where the synthesized-pixels mask of ``output`` goes: ``<stem>.synthesized.png`` beside it."""
    return output.with_name(output.stem + SYNTHESIZED_SUFFIX)


def owner_of(path: Path, own_output: Path | None = None) -> Path | None:
    """The output (other than ``own_output``) whose sidecar names ``path`` as its
    synthesized-pixels mask, if that output still exists: ``x.tif`` and ``x.png`` share the
    mask name ``x.synthesized.png``, and an image may be saved under that name too."""
    if not path.name.endswith(SYNTHESIZED_SUFFIX):
        return None
    stem = path.name[: -len(SYNTHESIZED_SUFFIX)]
    folder = path.parent if str(path.parent) else Path(".")
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError:
        return None
    for name in names:
        image_name = name[: -len(SIDECAR_SUFFIX)]
        if not (name.endswith(SIDECAR_SUFFIX) and image_name.startswith(stem + ".") and is_image_path(image_name)):
            continue
        other = folder / image_name
        if own_output is not None and other.name == own_output.name:
            continue
        try:
            record = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a record Restorer can read, so it claims nothing
        if isinstance(record, dict) and record.get("synthesized_mask") == recorded_name(path) and other.is_file():
            return other
    return None


@dataclass(frozen=True)
class ExportedFiles:
    """What one export wrote."""

    image: Path
    sidecar: Path
    synthesized_mask: Path | None


def export_with_record(image: RasterImage, output: str | os.PathLike, operations: list[Operation], *,
                       source: Path | None, source_sha256: str | None = None,
                       synthesized: np.ndarray | None = None, jpeg_quality: int = 95,
                       protect: tuple[str | os.PathLike, ...] = (), overwrite: bool = True) -> ExportedFiles:
    """Write ``image`` with its record: embedded tags and XMP, ``<output>.restorer.json`` and,
    when ``synthesized`` (H x W, nonzero = synthesized) is given, ``<stem>.synthesized.png``.

    Everything is written and flushed under temporary names first; then the old sidecar is
    removed, the mask and the image are renamed into place, and the new sidecar last. A
    crash in between therefore leaves either the old pair, the new pair, or an image without
    a sidecar, which :func:`verify_output` reports as incomplete; a full disk leaves the old
    pair. ``overwrite=False`` refuses an existing image or mask, even one created by another
    run meanwhile. ``source_sha256``, when given, is the checksum of the source as it was
    read; otherwise the source file is hashed now.
    """
    output = Path(output)
    sidecar = sidecar_path(output)
    mask_path = synthesized_mask_path(output) if synthesized is not None else None
    for path in (output, mask_path):
        owner = owner_of(path, output) if path is not None else None
        if owner is not None:
            raise ImageWriteError(f"'{path}' is the synthesized-pixels mask of '{owner.name}' (its sidecar names it); "
                                  "choose another name.")
    if not overwrite:
        _refuse_existing(output, mask_path)
    if source is not None and source_sha256 is None:
        source_sha256 = image.info.source_sha256 or sha256_file(source)
    record_id = uuid.uuid4().hex
    xmp = xmp_packet(operations, image.info.xmp, record_id) if operations else None
    staged: list[StagedFile] = []
    try:
        staged_image = stage_image(image, output, jpeg_quality=jpeg_quality, extra_text=embedded_tags(operations),
                                   xmp=xmp, protect=protect)
        staged.append(staged_image)
        staged_mask = None
        if mask_path is not None:
            mask_image = RasterImage(mask_of(holes_of(synthesized))[:, :, None],
                                     ImageInfo("PNG", 8))
            staged_mask = stage_image(mask_image, mask_path, protect=(*protect, output))
            staged.append(staged_mask)
        record = {
            "format": SIDECAR_FORMAT,
            "software": f"Restorer {app_version()}",
            "created": now_iso(),
            "record_id": record_id,
            "source": ({"name": recorded_name(source), "sha256": source_sha256, **image.info.reading_record()}
                       if source else None),
            "output": {"name": recorded_name(output), "sha256": sha256_file(staged_image.temp)},
            "synthesized_mask": recorded_name(mask_path) if mask_path else None,
            "synthesized_mask_sha256": sha256_file(staged_mask.temp) if staged_mask else None,
            "operations": [asdict(op) for op in operations],
        }
        payload = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        staged_sidecar = stage_write(sidecar, lambda handle: handle.write(payload))
        staged.append(staged_sidecar)
        with _commit_guard(output.parent):
            if not overwrite:
                _refuse_existing(output, mask_path)
            _remove_old_record(sidecar)
            if staged_mask is not None:
                staged_mask.commit()
            staged_image.commit()
            staged_sidecar.commit()  # last: it vouches for the files renamed before it
            sync_folder(output.parent)
    finally:
        for part in staged:
            part.discard()
    return ExportedFiles(output, sidecar, mask_path)


def _refuse_existing(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and path.exists():
            raise ImageWriteError(f"'{path}' already exists; Restorer replaces a file only when asked to "
                                  "(--overwrite on the command line).")


def _remove_old_record(sidecar: Path) -> None:
    """Remove the previous export's sidecar before its image is replaced, so that no moment
    shows a new image beside a record of the old one."""
    try:
        sidecar.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ImageWriteError(f"Could not replace '{sidecar}': {exc.strerror or exc}.") from None
    sync_folder(sidecar.parent)


@contextlib.contextmanager
def _commit_guard(folder: Path):
    """Hold off Ctrl-C and SIGTERM while the renames run (they take microseconds), and keep
    other Restorer processes committing into the same folder out until they are done."""
    blocked = {signal.SIGINT, getattr(signal, "SIGTERM", signal.SIGINT)}
    can_block = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked) if can_block else None
    lock_fd = _lock_folder(folder)
    try:
        yield
    finally:
        if lock_fd is not None:
            os.close(lock_fd)  # closing releases the lock
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _lock_folder(folder: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory folder locks; the rename order still holds
        return None
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:  # a file system without locks: the rename order still holds
        os.close(fd)
        return None
    return fd


# --------------------------------------------------------------------------- verifying


class RecordMismatchError(RestorerError):
    """An output and its record disagree: an interrupted export, or a file changed since."""


@dataclass(frozen=True)
class VerifiedOutput:
    """An output whose image, sidecar, embedded XMP and synthesized mask agree."""

    output: Path
    sidecar: Path
    record: dict
    checked: tuple[str, ...]

    @property
    def operations(self) -> list[dict]:
        return self.record["operations"]


def verify_output(output: str | os.PathLike) -> VerifiedOutput:
    """Check ``output`` against its sidecar: the image's sha256, the embedded XMP (record id
    and one history event per recorded fill) and the synthesized-pixels mask if one is
    recorded. Raises :class:`RecordMismatchError` saying what disagrees."""
    output = Path(output)
    sidecar = sidecar_path(output)
    if not output.is_file():
        raise RecordMismatchError(f"'{output}' does not exist or is not a file.")
    leftovers = _leftover_note(output, sidecar)
    if not sidecar.is_file():
        raise RecordMismatchError(f"'{output}' has no sidecar '{sidecar.name}': its export is incomplete "
                                  f"(interrupted) or the sidecar was removed.{leftovers}")
    record = _read_record(sidecar)
    actual = sha256_file(output)
    recorded = record["output"]["sha256"]
    if actual != recorded:
        raise RecordMismatchError(
            f"'{output}' does not match its sidecar (sha256 {actual[:12]}…, the sidecar records {recorded[:12]}…): "
            f"its export is incomplete (interrupted) or the image was changed since.{leftovers}")
    checked = ["sha256"]
    if _check_embedded_xmp(output, record):
        checked.append("embedded XMP")
    mask_name = record.get("synthesized_mask")
    if mask_name:
        beside = synthesized_mask_path(output)  # the name as written, which the record may hold escaped
        mask = beside if recorded_name(beside) == mask_name else output.with_name(mask_name)
        if not mask.is_file():
            raise RecordMismatchError(f"'{output}': the synthesized-pixels mask '{mask_name}' its sidecar names "
                                      "is missing.")
        if record.get("synthesized_mask_sha256") and sha256_file(mask) != record["synthesized_mask_sha256"]:
            raise RecordMismatchError(f"'{output}': the synthesized-pixels mask '{mask_name}' does not match its "
                                      "sidecar: it belongs to another export, or was changed since.")
        checked.append("synthesized mask")
    return VerifiedOutput(output, sidecar, record, tuple(checked))


def _leftover_note(*targets: Path) -> str:
    count = sum(1 for target in targets for path in target.parent.glob(".*") if is_temporary_of(path, target))
    if not count:
        return ""
    return (f" {count} temporary file{'s' if count != 1 else ''} of an interrupted export lie beside it; "
            "the next export to this name removes them.")


def _read_record(sidecar: Path) -> dict:
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordMismatchError(f"'{sidecar}' is not a readable Restorer sidecar: {exc}.") from None
    output = record.get("output") if isinstance(record, dict) else None
    operations = record.get("operations") if isinstance(record, dict) else None
    if (not isinstance(output, dict) or not isinstance(output.get("sha256"), str)
            or not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations)):
        raise RecordMismatchError(f"'{sidecar}' is not a Restorer sidecar (no output checksum or operations).")
    return record


def _check_embedded_xmp(output: Path, record: dict) -> bool:
    """Compare the XMP inside ``output`` with its record; False when there is nothing to
    compare (no fills recorded, or a format without XMP)."""
    operations = record["operations"]
    record_id = record.get("record_id")
    if not operations or format_for_path(output) == "BMP":
        return False  # an export without fills keeps the source's XMP as it was
    packet = embedded_xmp(output)
    root = parse_xmp(packet)
    description = root.find(f"{qname('rdf', 'RDF')}/{qname('rdf', 'Description')}")
    found_id = description.get(qname("restorer", "RecordId")) if description is not None else None
    if found_id != record_id:
        raise RecordMismatchError(
            f"'{output}': its embedded XMP belongs to another export than its sidecar "
            f"(record id {found_id or 'none'} inside, {record_id or 'none'} in the sidecar).")
    events = [event for event in root.iter(qname("rdf", "li"))
              if (event.findtext(qname("stEvt", "softwareAgent")) or "").startswith("Restorer")]
    if len(events) < len(operations):
        raise RecordMismatchError(f"'{output}': its embedded XMP history has {len(events)} Restorer events, "
                                  f"its sidecar {len(operations)} fills.")
    for number, (op, event) in enumerate(zip(operations, events[len(events) - len(operations):]), start=1):
        parameters = event.findtext(qname("stEvt", "parameters")) or ""
        if (event.findtext(qname("stEvt", "when")) != op.get("time")
                or any(mark not in parameters for mark in event_marks(op))):
            raise RecordMismatchError(f"'{output}': fill {number} of its sidecar and the embedded XMP history "
                                      "disagree (time, pixels or mask).")
    return True


def embedded_xmp(path: Path) -> bytes | None:
    """The XMP packet inside an image file, read from its header without decoding pixels."""
    packet = None
    try:
        with Image.open(path) as pil:
            if pil.format == "PNG":
                packet = pil.info.get(XMP_PNG_KEY)
            elif pil.format == "TIFF":
                packet = pil.tag_v2.get(700)
            else:
                packet = pil.info.get("xmp")
    except (OSError, ValueError, SyntaxError):  # layouts Pillow cannot open (16-bit gray+alpha TIFF)
        try:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                tag = tif.pages[0].tags.get(700)
                packet = tag.value if tag is not None else None
        except Exception as exc:  # tifffile raises many types for what it cannot parse
            raise RecordMismatchError(f"'{path}' could not be read to check its embedded XMP: {exc}.") from None
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    return bytes(packet) if packet else None
