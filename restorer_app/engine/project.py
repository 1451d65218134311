"""Project files (``.restorer``): a repair session that can be closed and reopened.

A project is a zip archive holding
- ``project.json``: the source file's path, name and sha256, the undo position, and for each
  accepted fill its box, its provenance record and the names of its patch files;
- ``mask.png``: the current mask;
- ``steps/NNNN-pixels.tiff`` and ``steps/NNNN-holes.png``: each accepted fill's pixels
  (lossless, at the source's precision) and which of them it changed.
The source image itself is referenced, not copied. Replaying the steps on the source
rebuilds every state, so undo history survives a reopen. Only JSON and images are read, and reading
refuses members whose names leave the archive (zip-slip) or whose size is excessive.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageReadError, RestorerError
from .imageio import atomic_write
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
    """One accepted fill: the new pixels of ``box`` where ``holes`` is set."""

    box: Box
    pixels: np.ndarray
    holes: np.ndarray
    operation: Operation

    def apply(self, image: np.ndarray) -> None:
        image[self.box.slices][self.holes] = self.pixels[self.holes]


@dataclass
class Project:
    source_path: Path
    source_sha256: str
    mask: np.ndarray
    steps: list[FillStep] = field(default_factory=list)
    position: int = 0  # steps[:position] are applied; the rest can be redone

    def render(self, source_pixels: np.ndarray) -> np.ndarray:
        """The image after the applied steps, rebuilt from the source."""
        image = source_pixels.copy()
        for step in self.steps[: self.position]:
            step.apply(image)
        return image


def step_from_images(before: np.ndarray, after: np.ndarray, operation: Operation) -> FillStep:
    """The smallest step that turns ``before`` into ``after``."""
    changed = np.any((before != after).reshape(before.shape[0], before.shape[1], -1), axis=2)
    ys, xs = np.nonzero(changed)
    if len(ys) == 0:
        box = Box(0, 0, 0, 0)
    else:
        box = Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return FillStep(box, after[box.slices].copy(), changed[box.slices].copy(), operation)


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
            archive.writestr(holes_name, _png_bytes(np.where(step.holes, 255, 0).astype(np.uint8)))
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
            "steps": steps_meta,
        }
        archive.writestr("project.json", json.dumps(meta, indent=2, ensure_ascii=False))
    payload = buffer.getvalue()
    atomic_write(path, lambda handle: handle.write(payload))
    return path


def _png_bytes(gray: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(gray)).save(out, format="PNG", compress_level=6)
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
                 max_total_bytes: int = MAX_TOTAL_BYTES) -> Project:
    """Read a project, refusing unsafe archives with a :class:`ProjectError`."""
    path = Path(path)
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ImageReadError(f"'{path}' does not exist.") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProjectError(f"'{name}' is not a Restorer project ({exc}).") from None
    with archive:
        members = _check_members(archive, name, max_member_bytes, max_total_bytes)
        read = lambda member: _read_member(archive, members, member, name)  # noqa: E731
        try:
            meta = json.loads(read("project.json").decode("utf-8"))
            if meta.get("format") != PROJECT_FORMAT:
                raise ProjectError(f"'{name}' is a project of format {meta.get('format')}; this Restorer reads format {PROJECT_FORMAT}.")
            steps = []
            for raw in meta["steps"]:
                x0, y0, x1, y1 = (int(v) for v in raw["box"])
                box = Box(x0, y0, x1, y1)
                pixels = _decode_tiff(read(raw["pixels"]))
                holes = np.asarray(Image.open(io.BytesIO(read(raw["holes"])))) > 0
                if pixels.shape[:2] != (box.height, box.width) or holes.shape != (box.height, box.width):
                    raise ProjectError(f"'{name}' is damaged: a step's pixels do not match its box.")
                steps.append(FillStep(box, pixels, holes, Operation(**raw["operation"])))
            mask = np.asarray(Image.open(io.BytesIO(read("mask.png"))).convert("L"))
            mask = np.where(mask > 0, 255, 0).astype(np.uint8)
            position = int(meta.get("position", len(steps)))
            source = meta["source"]
        except ProjectError:
            raise
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise ProjectError(f"'{name}' is damaged and cannot be opened ({exc}).") from None
    if not 0 <= position <= len(steps):
        raise ProjectError(f"'{name}' is damaged: its undo position is out of range.")
    return Project(Path(source["path"]), str(source["sha256"]), mask, steps, position)


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
        if info.file_size > max_member or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 65536:
            raise ProjectError(f"'{name}' contains an oversized file ('{member}'); it was not opened.")
        total += info.file_size
        members[member] = info
    if total > max_total:
        raise ProjectError(f"'{name}' would unpack to {total / 2**30:.1f} GiB; it was not opened.")
    return members


def _read_member(archive: zipfile.ZipFile, members: dict, member: str, name: str) -> bytes:
    info = members.get(member)
    if info is None:
        raise ProjectError(f"'{name}' is damaged: '{member}' is missing.")
    with archive.open(info) as handle:  # read at most the declared size: headers can lie
        data = handle.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise ProjectError(f"'{name}' is damaged: '{member}' is larger than it says.")
    return data


def _decode_tiff(data: bytes) -> np.ndarray:
    import tifffile

    pixels = tifffile.imread(io.BytesIO(data))
    return pixels[:, :, None] if pixels.ndim == 2 else pixels
