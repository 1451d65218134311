"""What archivists must be able to document: which pixels were synthesized, how, and by what.

Every exported image gets embedded tags (software and a one-line history), an XMP packet (the
source's, kept, with an ``xmpMM:History`` event per fill added) and a sidecar JSON beside it with
checksums of the source and the output and one record per operation. One function writes the
three together (:func:`export_with_record`) and one checks that they still agree
(:func:`verify_output`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import signal
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageWriteError, RestorerError
from .imageio import (HISTORY_KEY, TEMP_SUFFIX, XMP_PNG_KEY, ImageInfo, RasterImage, StagedFile, format_for_path,
                      is_image_path, stage_image, stage_write, sync_folder, temp_prefix)
from .registry import sha256_file

SIDECAR_SUFFIX = ".restorer.json"
SIDECAR_FORMAT = 1


def _version() -> str:
    from restorer_app import __version__

    return __version__


@dataclass(frozen=True)
class Operation:
    """One fill, as it must be recorded."""

    method: str
    method_label: str
    model_id: str | None
    model_version: str | None
    model_sha256: str | None
    description: str
    seed: int
    device: str
    time: str
    mask_sha256: str
    pixels_changed: int
    feather: int = 0
    #: Of ``pixels_changed``, those that ``auto`` filled classically (thin scratches and dust
    #: on a large job); the rest came from the model.
    pixels_classical: int = 0
    #: The learned fill's colour was matched to its surroundings (blend.harmonize_fill).
    colour_matched: bool = False
    #: Grain matching strength applied to the learned fill (engine/grain.py); 0 = none.
    grain: float = 0.0
    #: The learned fill ran the model once per hole, not on the crop and its mirror image.
    quick: bool = False


def operation_for(result, request, mask: np.ndarray) -> Operation:
    """The record of one :class:`~restorer_app.engine.pipeline.FillResult`."""
    model = result.model
    return Operation(
        method=result.method_id,
        method_label=result.method_label,
        model_id=model.id if model else None,
        model_version=model.version if model else None,
        model_sha256=model.sha256 if model else None,
        description=request.prompt,
        seed=request.seed,
        device=result.provider,
        time=now_iso(),
        mask_sha256=mask_sha256(mask),
        pixels_changed=result.changed_pixels,
        feather=request.feather,
        pixels_classical=result.classical_pixels,
        colour_matched=request.harmonize and model is not None,
        grain=request.grain if model is not None else 0.0,
        quick=request.quick and model is not None,
    )


def mask_sha256(mask: np.ndarray) -> str:
    """Checksum of a mask's content (shape + binary values), independent of file format."""
    digest = hashlib.sha256(f"{mask.shape[0]}x{mask.shape[1]}:".encode())
    digest.update(np.packbits(mask > 0).tobytes())
    return digest.hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def embedded_tags(operations: list[Operation]) -> dict[str, str]:
    """Text tags written into the output file itself (PNG text, TIFF/EXIF Software + description)."""
    methods = sorted({op.method_label for op in operations})
    count = len(operations)
    history = (
        f"Retouched with Restorer {_version()}: {count} fill{'s' if count != 1 else ''} "
        f"({', '.join(methods)}), {sum(op.pixels_changed for op in operations)} pixels synthesized."
    )
    return {"Software": f"Restorer {_version()}", HISTORY_KEY: history}


_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "restorer": "urn:restorer:provenance:1.0#",
}
for _prefix, _uri in _NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def xmp_packet(operations: list[Operation], source_xmp: bytes | None = None, record_id: str | None = None) -> bytes:
    """The XMP packet to embed: the source's packet (everything in it kept) plus one
    ``xmpMM:History`` event per fill, the modify date, and Restorer's own summary
    (``restorer:Retouched``, ``restorer:SynthesizedPixels``, ``restorer:History`` and, when
    given, ``restorer:RecordId``, the id of the sidecar written with this file).

    A source packet that is not well-formed XML is replaced rather than failing the export.
    """
    root = _parse_xmp(source_xmp)
    rdf = root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    descriptions = rdf.findall(_q("rdf", "Description"))
    if not descriptions:
        descriptions = [ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})]
    history = None
    for description in descriptions:
        for name in ("ModifyDate", "MetadataDate"):
            description.attrib.pop(_q("xmp", name), None)
            for element in description.findall(_q("xmp", name)):
                description.remove(element)
        for name in ("Retouched", "SynthesizedPixels", "History", "RecordId"):
            description.attrib.pop(_q("restorer", name), None)
            for element in description.findall(_q("restorer", name)):
                description.remove(element)
        history = history if history is not None else description.find(_q("xmpMM", "History"))
    target = descriptions[0]
    if history is None:
        history = ET.SubElement(target, _q("xmpMM", "History"))
    sequence = history.find(_q("rdf", "Seq"))
    if sequence is None:
        sequence = ET.SubElement(history, _q("rdf", "Seq"))
    agent = f"Restorer {_version()}"
    for op in operations:
        event = ET.SubElement(sequence, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
        model = f", model {op.model_id} {op.model_version} sha256 {op.model_sha256}" if op.model_id else ""
        said = f", description \"{op.description}\"" if op.description else ""
        said += ", colour matched" if op.colour_matched else ""
        said += f", grain {op.grain:g}" if op.grain else ""
        said += ", quick (one model run)" if op.quick else ""
        fields = {"action": "edited", "when": op.time, "softwareAgent": agent, "changed": "/",
                  "parameters": f"inpainted {op.pixels_changed} pixels with {op.method_label}{model}{said}, "
                                f"seed {op.seed}, mask sha256 {op.mask_sha256}"}
        for name, value in fields.items():
            ET.SubElement(event, _q("stEvt", name)).text = value
    now = now_iso()
    target.set(_q("xmp", "ModifyDate"), now)
    target.set(_q("xmp", "MetadataDate"), now)
    target.set(_q("restorer", "Retouched"), "True")
    target.set(_q("restorer", "SynthesizedPixels"), str(sum(op.pixels_changed for op in operations)))
    target.set(_q("restorer", "History"), embedded_tags(operations)[HISTORY_KEY])
    if record_id:
        target.set(_q("restorer", "RecordId"), record_id)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>').encode("utf-8")


def _parse_xmp(packet: bytes | None) -> ET.Element:
    """The packet's ``x:xmpmeta`` element (defusedxml: a file's XMP is untrusted input), or a
    new empty one."""
    if packet:
        import defusedxml.ElementTree as SafeET

        text = packet.decode("utf-8", "replace").strip("\x00 \t\r\n")
        start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
        if start >= 0 and end > start:
            try:
                root = SafeET.fromstring(text[start:end + len("</x:xmpmeta>")])
                if root.tag == _q("x", "xmpmeta"):
                    return root
            except (ET.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
                pass
    return ET.Element(_q("x", "xmpmeta"))


# --------------------------------------------------------------------------- files on disk

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
            mask_image = RasterImage(np.where(synthesized > 0, 255, 0).astype(np.uint8)[:, :, None],
                                     ImageInfo("PNG", 8))
            staged_mask = stage_image(mask_image, mask_path, protect=(*protect, output))
            staged.append(staged_mask)
        record = {
            "format": SIDECAR_FORMAT,
            "software": f"Restorer {_version()}",
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
    count = sum(1 for target in targets for path in target.parent.glob(".*")
                if path.name.startswith(temp_prefix(target)) and path.name.endswith(TEMP_SUFFIX))
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
    packet = _embedded_xmp(output)
    root = _parse_xmp(packet)
    description = root.find(f"{_q('rdf', 'RDF')}/{_q('rdf', 'Description')}")
    found_id = description.get(_q("restorer", "RecordId")) if description is not None else None
    if found_id != record_id:
        raise RecordMismatchError(
            f"'{output}': its embedded XMP belongs to another export than its sidecar "
            f"(record id {found_id or 'none'} inside, {record_id or 'none'} in the sidecar).")
    events = [event for event in root.iter(_q("rdf", "li"))
              if (event.findtext(_q("stEvt", "softwareAgent")) or "").startswith("Restorer")]
    if len(events) < len(operations):
        raise RecordMismatchError(f"'{output}': its embedded XMP history has {len(events)} Restorer events, "
                                  f"its sidecar {len(operations)} fills.")
    for number, (op, event) in enumerate(zip(operations, events[len(events) - len(operations):]), start=1):
        parameters = event.findtext(_q("stEvt", "parameters")) or ""
        if (event.findtext(_q("stEvt", "when")) != op.get("time")
                or f"inpainted {op.get('pixels_changed')} pixels" not in parameters
                or f"mask sha256 {op.get('mask_sha256')}" not in parameters):
            raise RecordMismatchError(f"'{output}': fill {number} of its sidecar and the embedded XMP history "
                                      "disagree (time, pixels or mask).")
    return True


def _embedded_xmp(path: Path) -> bytes | None:
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
