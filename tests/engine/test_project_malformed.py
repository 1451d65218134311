"""Damaged and hostile project files: every one is refused with a ProjectError and a sentence,
and no image inside a project is decoded before its declared size has been checked."""

import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorer_app.engine.project import MAX_STEPS, Project, ProjectError, load_project, save_project, step_from_images
from restorer_app.engine.provenance import Operation

from factories import make_photo

OPERATION = Operation(method="telea", method_label="Telea", model_id=None, model_version=None, model_sha256=None,
                      description="", seed=0, device="CPU", time="2024-01-01T00:00:00+00:00",
                      mask_sha256="0" * 64, pixels_changed=12)


def _members(tmp_path):
    """The members of a valid two-fill project, by name."""
    source = make_photo(30, 40, 3)
    after = source.copy()
    after[5:8, 6:10] = 0
    again = after.copy()
    again[20:22, 30:35] = 255
    steps = [step_from_images(source, after, OPERATION), step_from_images(after, again, OPERATION)]
    mask = np.zeros((30, 40), np.uint8)
    mask[1:3, 1:3] = 255
    path = save_project(Project(tmp_path / "scan.png", "ab" * 32, mask, steps, 2), tmp_path / "valid.restorer")
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _write(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _with_meta(tmp_path, change):
    members = _members(tmp_path)
    meta = json.loads(members["project.json"])
    meta = change(meta)
    members["project.json"] = json.dumps(meta) if not isinstance(meta, (bytes, str)) else meta
    return _write(tmp_path / "bad.restorer", members)


def _refused(path, *words, **options):
    with pytest.raises(ProjectError) as raised:
        load_project(path, **options)
    message = str(raised.value)
    assert "bad.restorer" in message or "big.restorer" in message, message
    for word in words:
        assert word in message, message
    return message


def test_the_valid_project_opens(tmp_path):
    members = _members(tmp_path)
    project = load_project(_write(tmp_path / "copy.restorer", members))
    assert len(project.steps) == 2 and project.position == 2 and project.mask.shape == (30, 40)


# --------------------------------------------------------------------------- broken archives


def _patch_headers(data: bytes, member: str, offset_local: int, offset_central: int, value: bytes) -> bytes:
    """Overwrite a field of ``member``'s local and central headers."""
    out = bytearray(data)
    name = member.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", offset_local, 30), (b"PK\x01\x02", offset_central, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at: start + name_at + len(name)] == name:
                out[start + offset: start + offset + len(value)] = value
            start += 4
    return bytes(out)


def test_bad_crc_is_a_project_error(tmp_path):
    members = _members(tmp_path)
    path = _write(tmp_path / "bad.restorer", members, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(members["mask.png"]) + 60  # inside the stored PNG: only the CRC can tell
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    _refused(path, "'mask.png' cannot be unpacked", "CRC")


def test_broken_deflate_stream_is_a_project_error(tmp_path):
    members = _members(tmp_path)
    path = _write(tmp_path / "bad.restorer", members)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("project.json")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename)
    data[start: start + 8] = b"\xff" * 8  # an invalid deflate block type
    path.write_bytes(bytes(data))
    _refused(path, "'project.json' cannot be unpacked")


def test_encrypted_member_is_a_project_error(tmp_path):
    path = _write(tmp_path / "bad.restorer", _members(tmp_path))
    path.write_bytes(_patch_headers(path.read_bytes(), "mask.png", 6, 8, struct.pack("<H", 1)))
    _refused(path, "encrypted", "'mask.png'")


@pytest.mark.parametrize("method", [99, zipfile.ZIP_BZIP2])
def test_unknown_compression_method_is_a_project_error(tmp_path, method):
    path = _write(tmp_path / "bad.restorer", _members(tmp_path))
    path.write_bytes(_patch_headers(path.read_bytes(), "mask.png", 8, 10, struct.pack("<H", method)))
    _refused(path, "'mask.png'", f"zip method {method}")


def test_duplicate_member_names_are_refused(tmp_path):
    members = _members(tmp_path)
    path = tmp_path / "bad.restorer"
    with pytest.warns(UserWarning, match="Duplicate"):
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
            archive.writestr("mask.png", _png(np.full((30, 40), 255, np.uint8)))
    _refused(path, "'mask.png' twice")


# --------------------------------------------------------------------------- project.json of the wrong shape


def _step(meta, **changes):
    meta["steps"][0].update(changes)
    return meta


@pytest.mark.parametrize("change, words", [
    (lambda meta: [meta], "not a project description"),
    (lambda meta: "[" * 50_000, "not readable JSON"),  # nested past Python's recursion limit
    (lambda meta: b"\xff\xfe{}", "not readable JSON"),
    (lambda meta: {**meta, "format": True}, "format True"),
    (lambda meta: {**meta, "steps": {"0": meta["steps"][0]}}, "list of fills"),
    (lambda meta: {**meta, "steps": ["steps/0001-pixels.tiff"], "position": 0}, "fill 1 is not a fill record"),
    (lambda meta: {**meta, "position": "1"}, "undo position"),
    (lambda meta: {**meta, "position": 1.5}, "undo position"),
    (lambda meta: {**meta, "position": True}, "undo position"),
    (lambda meta: {**meta, "position": 3}, "undo position"),
    (lambda meta: {**meta, "saved_steps": 3}, "number of saved fills"),
    (lambda meta: {**meta, "saved_steps": "1"}, "number of saved fills"),
    (lambda meta: {**meta, "source": ["scan.png"]}, "which photograph"),
    (lambda meta: {**meta, "source": {**meta["source"], "path": "scan\0.png"}}, "not a path"),
    (lambda meta: {**meta, "source": {**meta["source"], "sha256": 12}}, "not a sha256"),
    (lambda meta: _step(meta, box=[5, 6, 9]), "fill 1's box is not four whole numbers"),
    (lambda meta: _step(meta, box=[5, 6, 9.5, 8]), "four whole numbers"),
    (lambda meta: _step(meta, box=["5", 6, 9, 8]), "four whole numbers"),
    (lambda meta: _step(meta, box=[-4, 6, 0, 8]), "not a rectangle"),
    (lambda meta: _step(meta, box=[10, 6, 6, 8]), "not a rectangle"),
    (lambda meta: _step(meta, operation="telea"), "fill 1 has no operation record"),
    (lambda meta: _step(meta, operation={**meta["steps"][0]["operation"], "colour": "red"}), "unknown fields (colour)"),
    (lambda meta: _step(meta, operation={k: v for k, v in meta["steps"][0]["operation"].items() if k != "seed"}),
     "lacks seed"),
    (lambda meta: _step(meta, operation={**meta["steps"][0]["operation"], "seed": "7"}), "'seed' should be int"),
    (lambda meta: _step(meta, operation={**meta["steps"][0]["operation"], "grain": "strong"}), "'grain' should be"),
    (lambda meta: _step(meta, operation={**meta["steps"][0]["operation"], "method_label": None}), "'method_label'"),
    (lambda meta: _step(meta, pixels=["steps/0001-pixels.tiff"]), "not a name"),
    (lambda meta: {**meta, "steps": meta["steps"][:1] * 2}, "used by more than one fill"),
    (lambda meta: _step(meta, pixels="steps/none.tiff"), "'steps/none.tiff' is missing"),
])
def test_project_json_of_the_wrong_shape_is_a_project_error(tmp_path, change, words):
    _refused(_with_meta(tmp_path, change), words)


def test_more_fills_than_a_project_holds_are_refused_before_reading_them(tmp_path):
    members = _members(tmp_path)
    meta = json.loads(members["project.json"])
    members["project.json"] = json.dumps({**meta, "steps": meta["steps"] * (MAX_STEPS // 2 + 1), "position": 0})
    path = _write(tmp_path / "bad.restorer", members, compression=zipfile.ZIP_STORED)
    _refused(path, f"records {MAX_STEPS + 2} fills", f"at most {MAX_STEPS}")


# --------------------------------------------------------------------------- images inside the project


def _png(array, mode=None):
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, format="PNG")
    return out.getvalue()


def _tiff(array, **options):
    out = io.BytesIO()
    tifffile.imwrite(out, array, metadata=None, **options)
    return out.getvalue()


def _huge_png(width, height):
    """A valid-looking 1-bit PNG that declares width x height pixels in a few bytes."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + (width + 7) // 8) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_mask_declaring_forty_thousand_squared_pixels_is_refused_before_decoding(tmp_path):
    members = _members(tmp_path)
    members["mask.png"] = _huge_png(40_000, 40_000)
    message = _refused(_write(tmp_path / "bad.restorer", members), "'mask.png' declares 40000x40000", "limit")
    assert "300 MP" in message


def test_the_pixel_limit_applies_to_every_image_inside(tmp_path):
    members = _members(tmp_path)
    members["mask.png"] = _png(np.zeros((1500, 1000), np.uint8))
    path = _write(tmp_path / "big.restorer", members)
    _refused(path, "'mask.png' declares 1000x1500", "limit of 1 MP", max_pixels=1_000_000)
    assert load_project(path).mask.shape == (1500, 1000)  # within the default limit it opens
    _refused(path, "'steps/0001-pixels.tiff' declares 4x3", max_pixels=10)


@pytest.mark.parametrize("member, data, words", [
    ("steps/0001-pixels.tiff", _tiff(np.zeros((3, 4, 3), np.float32), photometric="rgb"), "not 8- or 16-bit"),
    ("steps/0001-pixels.tiff", _tiff(np.zeros((3, 4, 5), np.uint8), photometric="minisblack", planarconfig="contig"), "not 8- or 16-bit"),
    ("steps/0001-pixels.tiff", _tiff(np.zeros((4, 4, 3), np.uint8)), "pixels do not match its box"),
    ("steps/0001-pixels.tiff", b"II*\x00" + b"\x00" * 40, "not readable TIFF"),
    ("steps/0001-holes.png", _png(np.zeros((3, 4, 3), np.uint8)), "not a one-channel image"),
    ("steps/0001-holes.png", _png(np.zeros((4, 4), np.uint8)), "is 4x4, not the 4x3 of its fill"),
    ("steps/0001-holes.png", _png(np.zeros((3, 4), np.uint8))[:40], "not a readable PNG"),
    ("mask.png", b"GIF89a" + b"\0" * 30, "not a readable PNG"),
    ("mask.png", _huge_png(3000, 3000)[:-12], "not a readable PNG"),  # IEND gone, rows short
])
def test_step_and_mask_images_of_the_wrong_kind_are_project_errors(tmp_path, member, data, words):
    members = _members(tmp_path)
    members[member] = data
    _refused(_write(tmp_path / "bad.restorer", members), words)
