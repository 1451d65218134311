"""Project files (``.restorer``): a repair session that can be closed and reopened.

Writing and, above all, refusing every way a file can be damaged or hostile read best in one
module; it is a little over 400 lines for that reason.

A project is a zip archive holding
- ``project.json``: the source file's path, name and sha256, the undo position, and for each
  accepted fill its box, its provenance record and the names of its patch files;
- ``mask.png``: the current mask;
- ``steps/NNNN-pixels.tiff`` and ``steps/NNNN-holes.png``: each accepted fill's pixels
  (lossless, at the source's precision) and which of them it changed;
- when damage detection proposed a mask that is not repaired yet, ``proposal/probability.png``
  (the detector's map, lossless) and ``proposal/excluded.png`` (what the user erased from it),
  with the detector and the threshold in ``project.json``. A project without them (an older
  one) has no proposal;
- when the user kept part of the photo out of copying (source control), ``no-source.png``.
An accepted whole-photo restore is a step like a fill: its box is around the pixels it changed,
its holes are those pixels, and its operation's ``action`` is ``"restore"``. Replayed in order,
the restored pixels are the base every later fill and detection worked on. The pixels are kept,
not the strengths to run the model again: another model version, device or thread count gives
slightly different pixels, and the later fills were made on these. A project without restore
steps (an older one) reads as before.
The source image itself is referenced, not copied. Replaying the steps on the source
rebuilds every state, so undo history survives a reopen. Only JSON and images are read, and reading
refuses members whose names leave the archive (zip-slip) or whose size is excessive.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageReadError, RestorerError
from .files import atomic_write
from .detection import DamageMap
from .image_formats import default_max_pixels
from .masks import holes_of, mask_of
from .provenance import Operation, now_iso
from .regions import Box

PROJECT_FORMAT = 1
PROJECT_SUFFIX = ".restorer"
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB uncompressed per member
MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 100_000
MAX_RATIO = 100  # members are compressed images and JSON; far higher ratios are zip bombs


class ProjectError(RestorerError):
    """The project file cannot be used."""


@dataclass
class FillStep:
    """One accepted fill: the new pixels of ``box`` where ``holes`` is set, kept as those
    pixels only (``values``, N x C in row order), so a fill over scratches right across a 60 MP
    scan holds the scratches, not a copy of the scan."""

    box: Box
    values: np.ndarray
    holes: np.ndarray
    operation: Operation

    @classmethod
    def from_pixels(cls, box: Box, pixels: np.ndarray, holes: np.ndarray, operation: Operation) -> "FillStep":
        """The step from ``box``-shaped new pixels (only those under ``holes`` are kept)."""
        return cls(box, pixels[holes], holes, operation)

    @property
    def pixels(self) -> np.ndarray:
        """The box with the step's pixels under its holes and zero elsewhere (as files store it)."""
        pixels = np.zeros((self.box.height, self.box.width, self.values.shape[1]), self.values.dtype)
        pixels[self.holes] = self.values
        return pixels

    def apply(self, image: np.ndarray) -> None:
        image[self.box.slices][self.holes] = self.values

    @property
    def is_restore(self) -> bool:
        """A whole-photo restore rather than a fill (its holes are what it changed)."""
        return self.operation.is_restore


@dataclass
class DamageProposal:
    """A detector's proposal as the user has adjusted it: the probability map, the threshold
    the sensitivity slider sets, and the pixels erased from it. Erasures are kept apart from the
    map, so they still hold when the threshold changes."""

    damage: DamageMap
    threshold: float
    #: H x W uint8, 255 where the user erased the proposal.
    excluded: np.ndarray

    def snapshot(self) -> "DamageProposal":
        """A copy that later erasures do not change (the map itself is never written to)."""
        return DamageProposal(self.damage, self.threshold, self.excluded.copy())


@dataclass
class Project:
    source_path: Path
    source_sha256: str
    mask: np.ndarray
    steps: list[FillStep] = field(default_factory=list)
    position: int = 0  # steps[:position] are applied; the rest can be redone
    #: steps[:saved_steps] were the photo's fills when it was last saved (exported, or as a
    #: project): an autosave says so, so recovered work that was exported is not called unsaved.
    #: None when the saved state is no longer in the history.
    saved_steps: int | None = None
    #: Detected damage not repaired yet.
    proposal: DamageProposal | None = None
    #: H x W uint8, 255 where fills must never copy texture from (InpaintRequest.no_source).
    no_source: np.ndarray | None = None

    def render(self, source_pixels: np.ndarray) -> np.ndarray:
        """The image after the applied steps, rebuilt from the source."""
        image = source_pixels.copy()
        for step in self.steps[: self.position]:
            step.apply(image)
        return image


def step_from_images(before: np.ndarray, after: np.ndarray, operation: Operation) -> FillStep:
    """The smallest step that turns ``before`` into ``after``."""
    changed = np.any((before != after).reshape(before.shape[0], before.shape[1], -1), axis=2)
    box = Box.around(changed) or Box(0, 0, 0, 0)
    return FillStep.from_pixels(box, after[box.slices], changed[box.slices].copy(), operation)


# --------------------------------------------------------------------------- writing


def save_project(project: Project, path: Path) -> Path:
    """Write the project atomically (a crash mid-save leaves the previous file intact)."""
    path = Path(path)
    steps_meta = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mask.png", _png_bytes(project.mask))
        for number, step in enumerate(project.steps, start=1):
            pixels_name, holes_name = f"steps/{number:04d}-pixels.tiff", f"steps/{number:04d}-holes.png"
            archive.writestr(pixels_name, _tiff_bytes(step.pixels))
            archive.writestr(holes_name, _png_bytes(mask_of(step.holes)))
            steps_meta.append({
                "box": [step.box.x0, step.box.y0, step.box.x1, step.box.y1],
                "pixels": pixels_name,
                "holes": holes_name,
                "operation": asdict(step.operation),
            })
        meta = {
            "format": PROJECT_FORMAT,
            "saved": now_iso(),
            "source": {
                "path": str(project.source_path),
                "name": project.source_path.name,
                "sha256": project.source_sha256,
            },
            "position": project.position,
            "saved_steps": project.saved_steps,
            "steps": steps_meta,
        }
        if project.proposal is not None:
            meta["proposal"] = _write_proposal(archive, project.proposal)
        if project.no_source is not None and project.no_source.any():
            archive.writestr(NO_SOURCE_MEMBER, _png_bytes(mask_of(holes_of(project.no_source))))
            meta["no_source"] = NO_SOURCE_MEMBER
        # ASCII escapes keep every path exact, even a name that is not UTF-8 (read back by json).
        archive.writestr("project.json", json.dumps(meta, indent=2, ensure_ascii=True))
    payload = buffer.getvalue()
    atomic_write(path, lambda handle: handle.write(payload))
    return path


def _write_proposal(archive: zipfile.ZipFile, proposal: DamageProposal) -> dict:
    # Stored, not deflated again: the PNG already is.
    archive.writestr(PROBABILITY_MEMBER, _probability_png(proposal.damage), compress_type=zipfile.ZIP_STORED)
    archive.writestr(EXCLUDED_MEMBER, _png_bytes(mask_of(holes_of(proposal.excluded))))
    return {"model_id": proposal.damage.model_id, "model_version": proposal.damage.model_version,
            "model_sha256": proposal.damage.model_sha256, "threshold": proposal.threshold,
            "probability": PROBABILITY_MEMBER, "excluded": EXCLUDED_MEMBER}


PROBABILITY_MEMBER, EXCLUDED_MEMBER = "proposal/probability.png", "proposal/excluded.png"
NO_SOURCE_MEMBER = "no-source.png"
#: The last probability map encoded, and its PNG: a map never changes, and every autosave of
#: a session writes the same one (0.2 s for a 24 MP map of scratches, 1.2 s for pure noise).
_last_encoded: tuple[DamageMap, bytes] | None = None


def _probability_png(damage: DamageMap) -> bytes:
    global _last_encoded
    cached = _last_encoded  # one read: another thread may replace it meanwhile
    if cached is not None and cached[0] is damage:
        return cached[1]
    data = _png_bytes(damage.probability, compress_level=1)  # level 6 takes 3-4x as long for 10 % less
    _last_encoded = (damage, data)
    return data


def _png_bytes(gray: np.ndarray, compress_level: int = 6) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(gray)).save(out, format="PNG", compress_level=compress_level)
    return out.getvalue()


def _tiff_bytes(pixels: np.ndarray) -> bytes:
    import tifffile

    out = io.BytesIO()
    channels = pixels.shape[2]
    tifffile.imwrite(out, pixels[:, :, 0] if channels == 1 else pixels,
                     photometric="rgb" if channels in (3, 4) else "minisblack",
                     extrasamples=("unassalpha",) if channels in (2, 4) else None,
                     compression="zlib", metadata=None)
    return out.getvalue()


# --------------------------------------------------------------------------- reading


def load_project(path: Path, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                 max_total_bytes: int = MAX_TOTAL_BYTES, max_pixels: int | None = None) -> Project:
    """Read a project, refusing unsafe or damaged archives with a :class:`ProjectError`.

    Every image inside is checked against ``max_pixels`` (the photo limit) and the memory
    budget from its header, before it is decoded.
    """
    path = Path(path)
    name = path.name
    limit = default_max_pixels() if max_pixels is None else max_pixels
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ImageReadError(f"'{path}' does not exist.") from None
    except PermissionError:
        raise ProjectError(f"Restorer is not allowed to read '{path}'.") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ProjectError(f"'{name}' is not a Restorer project ({exc}).") from None
    with archive:
        members = _check_members(archive, name, max_member_bytes, max_total_bytes)
        reader = _ProjectReader(archive, members, name, limit)
        meta = reader.json("project.json")
        if not isinstance(meta, dict):
            raise ProjectError(f"'{name}' is damaged: its project.json is not a project description.")
        if meta.get("format") != PROJECT_FORMAT or isinstance(meta.get("format"), bool):
            raise ProjectError(f"'{name}' is a project of format {str(meta.get('format'))[:20]}; "
                               f"this Restorer reads format {PROJECT_FORMAT}.")
        source = _source_of(meta.get("source"), name)
        raw_steps = meta.get("steps")
        if not isinstance(raw_steps, list):
            raise ProjectError(f"'{name}' is damaged: its list of fills is missing or not a list.")
        if len(raw_steps) > MAX_STEPS:
            raise ProjectError(f"'{name}' records {len(raw_steps)} fills; a project holds at most {MAX_STEPS}.")
        position = meta.get("position", len(raw_steps))
        if not _is_int(position) or not 0 <= position <= len(raw_steps):
            raise ProjectError(f"'{name}' is damaged: its undo position is out of range.")
        saved_steps = meta.get("saved_steps")
        if saved_steps is not None and (not _is_int(saved_steps) or not 0 <= saved_steps <= len(raw_steps)):
            raise ProjectError(f"'{name}' is damaged: the number of saved fills it records is out of range.")
        steps = [reader.step(raw, number) for number, raw in enumerate(raw_steps, start=1)]
        mask = reader.gray_png("mask.png", None)
        proposal = reader.proposal(meta.get("proposal"), mask.shape) if "proposal" in meta else None
        no_source = None
        if "no_source" in meta:
            if meta["no_source"] != NO_SOURCE_MEMBER:
                raise ProjectError(f"'{name}' is damaged: its area kept out of copying is not '{NO_SOURCE_MEMBER}'.")
            no_source = mask_of(holes_of(reader.gray_png(NO_SOURCE_MEMBER, mask.shape, "the project's mask")))
    return Project(Path(source["path"]), source["sha256"], mask_of(holes_of(mask)), steps,
                   position, saved_steps, proposal, no_source)


MAX_STEPS = 10_000
#: Decoded pixels a project may hold in memory (its steps and mask), counted from the
#: image headers before decoding: a few kilobytes of PNG can declare gigabytes.
MAX_DECODED_BYTES = 4 << 30
MAX_JSON_BYTES = 64 << 20
_OPERATION_TYPES = {f.name: f.type for f in fields(Operation)}
#: The JSON values that may stand for each annotation of an Operation field.
_JSON_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
                                            "None": (type(None),)}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _source_of(source: object, name: str) -> dict[str, str]:
    if not isinstance(source, dict):
        raise ProjectError(f"'{name}' is damaged: it does not say which photograph it repairs.")
    where, checksum = source.get("path"), source.get("sha256")
    if not isinstance(where, str) or not where or "\0" in where:
        raise ProjectError(f"'{name}' is damaged: the path of the photograph it repairs is not a path.")
    if not isinstance(checksum, str) or len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum):
        raise ProjectError(f"'{name}' is damaged: the checksum of the photograph it repairs is not a sha256.")
    return {"path": where, "sha256": checksum}


def _operation_of(raw: object, name: str, number: int) -> Operation:
    """The operation record of fill ``number``, its fields of the types Operation declares."""
    if not isinstance(raw, dict):
        raise ProjectError(f"'{name}' is damaged: fill {number} has no operation record.")
    unknown = sorted(set(raw) - set(_OPERATION_TYPES))
    if unknown:
        raise ProjectError(f"'{name}' is damaged: fill {number}'s record has unknown fields "
                           f"({', '.join(str(key)[:40] for key in unknown[:5])}).")
    for key, value in raw.items():
        declared = str(_OPERATION_TYPES[key])
        allowed = [_JSON_TYPES.get(part.strip()) for part in declared.split("|")]
        if None in allowed:
            continue  # a type JSON cannot name exactly; Operation itself must cope
        fits = any(isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
                   for kinds in allowed)
        if not fits:
            raise ProjectError(f"'{name}' is damaged: fill {number}'s '{key}' should be {declared}.")
    try:
        return Operation(**raw)
    except TypeError:  # a required field is missing
        missing = sorted(set(_OPERATION_TYPES) - set(raw))
        raise ProjectError(f"'{name}' is damaged: fill {number}'s record lacks {', '.join(missing)}.") from None


class _ProjectReader:
    """Reads members of one archive, turning every way they can be broken into a ProjectError."""

    def __init__(self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str,
                 max_pixels: int) -> None:
        self.archive, self.members, self.name, self.max_pixels = archive, members, name, max_pixels
        self.decoded = 0
        self.used: set[str] = set()

    def read(self, member: object) -> bytes:
        if not isinstance(member, str):
            raise ProjectError(f"'{self.name}' is damaged: a file name in project.json is not a name.")
        info = self.members.get(member)
        if info is None:
            raise ProjectError(f"'{self.name}' is damaged: '{member[:200]}' is missing.")
        if member in self.used:  # one member replayed many times would multiply its memory
            raise ProjectError(f"'{self.name}' is damaged: '{member}' is used by more than one fill.")
        self.used.add(member)
        try:
            with self.archive.open(info) as handle:  # read at most the declared size: headers can lie
                data = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            raise ProjectError(f"'{self.name}' is damaged: '{member}' cannot be unpacked ({exc}).") from None
        if len(data) > info.file_size:
            raise ProjectError(f"'{self.name}' is damaged: '{member}' is larger than it says.")
        return data

    def json(self, member: str) -> object:
        info = self.members.get(member)
        if info is not None and info.file_size > MAX_JSON_BYTES:
            raise ProjectError(f"'{self.name}' contains an oversized file ('{member}'); it was not opened.")
        try:
            return json.loads(self.read(member).decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ProjectError(f"'{self.name}' is damaged: '{member}' is not readable JSON ({exc}).") from None

    def _reserve(self, member: str, width: int, height: int, bytes_per_pixel: int) -> None:
        if width * height > self.max_pixels:
            raise ProjectError(f"'{self.name}' is damaged or hostile: '{member}' declares {width}x{height} "
                               f"pixels, more than the limit of {self.max_pixels / 1e6:.0f} MP; it was not opened.")
        self.decoded += width * height * bytes_per_pixel
        if self.decoded > MAX_DECODED_BYTES:
            raise ProjectError(f"'{self.name}' would need more than {MAX_DECODED_BYTES >> 30} GiB of memory "
                               "for its fills; it was not opened.")

    def gray_png(self, member: str, size: tuple[int, int] | None, of: str = "its fill") -> np.ndarray:
        """A one-channel PNG; ``size`` (height, width), when given, is the size it must have (that of ``of``)."""
        data = self.read(member)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as png:
                width, height = png.size
                if png.mode not in ("1", "L"):
                    raise ProjectError(f"'{self.name}' is damaged: '{member}' is not a one-channel image.")
                if size is not None and (height, width) != size:
                    raise ProjectError(f"'{self.name}' is damaged: '{member}' is {width}x{height}, "
                                       f"not the {size[1]}x{size[0]} of {of}.")
                self._reserve(member, width, height, 2)
                png.verify()  # chunk checksums and the end marker: Pillow decodes a cut-off PNG silently
            with Image.open(io.BytesIO(data), formats=["PNG"]) as png:
                gray = np.asarray(png)
        except ProjectError:
            raise
        except (OSError, ValueError, SyntaxError, EOFError, zlib.error) as exc:  # Pillow's ways to fail
            raise ProjectError(f"'{self.name}' is damaged: '{member}' is not a readable PNG ({exc}).") from None
        return gray.astype(np.uint8) if gray.dtype == bool else gray

    def tiff(self, member: str, size: tuple[int, int]) -> np.ndarray:
        """A step's pixels: 8- or 16-bit, 1 to 4 channels, exactly ``size`` (height, width)."""
        import tifffile

        data = self.read(member)
        try:
            with tifffile.TiffFile(io.BytesIO(data)) as tif:
                page = tif.pages.first
                shape, dtype = tuple(page.shape), np.dtype(page.dtype) if page.dtype is not None else None
                channels = 1 if len(shape) == 2 else (shape[2] if len(shape) == 3 else 0)
                if dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)) or not 1 <= channels <= 4:
                    raise ProjectError(f"'{self.name}' is damaged: '{member}' is not 8- or 16-bit gray, "
                                       "gray+alpha, RGB or RGBA pixels.")
                if shape[:2] != size:
                    raise ProjectError(f"'{self.name}' is damaged: a step's pixels do not match its box.")
                self._reserve(member, size[1], size[0], channels * dtype.itemsize)
                pixels = page.asarray()
        except ProjectError:
            raise
        except Exception as exc:  # tifffile raises many types for damaged files
            raise ProjectError(f"'{self.name}' is damaged: '{member}' is not readable TIFF ({exc}).") from None
        return np.ascontiguousarray(pixels[:, :, None] if pixels.ndim == 2 else pixels)

    def proposal(self, raw: object, size: tuple[int, int]) -> DamageProposal:
        """The detected damage: its map and erasures the size of the project's mask."""
        damaged = f"'{self.name}' is damaged: its proposed damage mask"
        if not isinstance(raw, dict):
            raise ProjectError(f"{damaged} is not described.")
        model_id, version, sha = raw.get("model_id"), raw.get("model_version"), raw.get("model_sha256")
        threshold = raw.get("threshold")
        if not isinstance(model_id, str) or not isinstance(version, str) or not (sha is None or isinstance(sha, str)):
            raise ProjectError(f"{damaged} does not say which detector made it.")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise ProjectError(f"{damaged} has a threshold that is not between 0 and 1.")
        probability = self.gray_png(raw.get("probability"), size, "the project's mask")
        excluded = mask_of(holes_of(self.gray_png(raw.get("excluded"), size, "the project's mask")))
        return DamageProposal(DamageMap(probability, model_id, version, sha), float(threshold), excluded)

    def step(self, raw: object, number: int) -> FillStep:
        if not isinstance(raw, dict):
            raise ProjectError(f"'{self.name}' is damaged: fill {number} is not a fill record.")
        box = raw.get("box")
        if not (isinstance(box, list) and len(box) == 4 and all(_is_int(v) for v in box)):
            raise ProjectError(f"'{self.name}' is damaged: fill {number}'s box is not four whole numbers.")
        x0, y0, x1, y1 = box
        if not (0 <= x0 <= x1 and 0 <= y0 <= y1):
            raise ProjectError(f"'{self.name}' is damaged: fill {number}'s box {box} is not a rectangle inside a photo.")
        box = Box(x0, y0, x1, y1)
        operation = _operation_of(raw.get("operation"), self.name, number)
        pixels = self.tiff(raw.get("pixels"), (box.height, box.width))
        holes = holes_of(self.gray_png(raw.get("holes"), (box.height, box.width)))
        return FillStep.from_pixels(box, pixels, holes, operation)


def _check_members(archive: zipfile.ZipFile, name: str, max_member: int, max_total: int) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ProjectError(f"'{name}' holds {len(infos)} files; a project never holds that many.")
    total = 0
    members = {}
    for info in infos:
        member = info.filename
        normal = posixpath.normpath(member.replace("\\", "/"))
        if member.startswith(("/", "\\")) or normal.startswith("..") or ":" in member or normal != member.rstrip("/"):
            raise ProjectError(f"'{name}' contains a file that points outside the project ('{member}'); it was not opened.")
        if member in members:  # zip readers disagree on which copy counts
            raise ProjectError(f"'{name}' contains '{member}' twice; it was not opened.")
        if info.flag_bits & 0x1:
            raise ProjectError(f"'{name}' contains an encrypted file ('{member}'); Restorer never encrypts projects.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ProjectError(f"'{name}' contains '{member}' packed with a method Restorer does not use "
                               f"(zip method {info.compress_type}); it was not opened.")
        if info.file_size > max_member or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 65536:
            raise ProjectError(f"'{name}' contains an oversized file ('{member}'); it was not opened.")
        total += info.file_size
        members[member] = info
    if total > max_total:
        raise ProjectError(f"'{name}' would unpack to {total / 2**30:.1f} GiB; it was not opened.")
    return members
