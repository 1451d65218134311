import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.project import (
    Project,
    ProjectError,
    load_project,
    save_project,
    step_from_images,
)
from restorer_app.engine.provenance import operation_for
from restorer_app.engine.registry import ModelRegistry

from factories import make_mask, make_photo


@pytest.mark.parametrize("channels, dtype", [(3, np.uint8), (4, np.uint16), (1, np.uint16)])
def test_save_and_reopen_keeps_every_accepted_fill_and_the_undo_position(tmp_path, channels, dtype):
    source = make_photo(80, 100, channels, dtype)
    inpainter = Inpainter(ModelRegistry([]))
    image, states, steps = source, [source], []
    for index, method in enumerate(("telea", "ns")):
        mask = np.zeros((80, 100), np.uint8)
        mask[10 + 30 * index: 20 + 30 * index, 20:70] = 255
        request = InpaintRequest(method=method, seed=index)
        result = inpainter.inpaint(RasterImage(image, ImageInfo("TIFF", 8)), mask, request)
        steps.append(step_from_images(image, result.pixels, operation_for(result, request, mask)))
        image = result.pixels
        states.append(image)
    project = Project(tmp_path / "scan.tif", "ab" * 32, make_mask(80, 100), steps, position=1)
    path = save_project(project, tmp_path / "work.restorer")
    reopened = load_project(path)
    assert reopened.position == 1 and len(reopened.steps) == 2
    assert reopened.source_path == tmp_path / "scan.tif" and reopened.source_sha256 == "ab" * 32
    np.testing.assert_array_equal(reopened.mask, project.mask)
    for position, expected in enumerate(states):  # undo and redo reach every state exactly
        reopened.position = position
        np.testing.assert_array_equal(reopened.render(source), expected)
    assert reopened.steps[1].operation.method == "ns" and reopened.steps[1].operation.seed == 1


def _archive(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_members_escaping_the_folder_are_refused(tmp_path):
    for evil in ("../evil.txt", "/etc/passwd", "steps/../../x", "C:\\\\x"):
        path = tmp_path / "evil.restorer"
        _archive(path, {"project.json": "{}", evil: "x"})
        with pytest.raises(ProjectError, match="outside the project"):
            load_project(path)


def test_oversized_members_are_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.restorer"
    _archive(path, {"project.json": json.dumps({"format": 1}), "mask.png": b"\0" * (8 << 20)})
    with pytest.raises(ProjectError, match="oversized"):
        load_project(path)  # 8 MiB of zeros compresses about 1000:1
    with pytest.raises(ProjectError, match="oversized"):
        load_project(path, max_member_bytes=1024)


def test_damaged_and_foreign_files_give_sentences(tmp_path):
    (tmp_path / "a.restorer").write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="not a Restorer project"):
        load_project(tmp_path / "a.restorer")
    _archive(tmp_path / "b.restorer", {"project.json": json.dumps({"format": 1, "steps": []})})
    with pytest.raises(ProjectError, match="damaged"):
        load_project(tmp_path / "b.restorer")


def test_the_area_kept_out_of_copying_is_saved_and_checked(tmp_path):
    kept_out = np.zeros((80, 100), np.uint8)
    kept_out[5:30, 40:90] = 255
    project = Project(tmp_path / "scan.tif", "ab" * 32, make_mask(80, 100), no_source=kept_out)
    reopened = load_project(save_project(project, tmp_path / "work.restorer"))
    np.testing.assert_array_equal(reopened.no_source, kept_out)
    assert load_project(save_project(Project(tmp_path / "scan.tif", "ab" * 32, make_mask(80, 100)),
                                     tmp_path / "plain.restorer")).no_source is None
    # A no-source.png of another size than the mask is refused with a sentence.
    with zipfile.ZipFile(tmp_path / "work.restorer") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    small = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(small, format="PNG")
    members["no-source.png"] = small.getvalue()
    _archive(tmp_path / "bad.restorer", members)
    with pytest.raises(ProjectError, match="no-source.png"):
        load_project(tmp_path / "bad.restorer")
