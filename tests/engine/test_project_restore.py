"""A project keeps an accepted whole-photo restore as a step: the restored pixels are the base
of the fills after it, its record says it was a restore, and older projects still open."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.project import Project, ProjectError, load_project, save_project, step_from_images
from restorer_app.engine.provenance import operation_for, restore_operation
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.restoration import RestoreOptions, restore
from restorer_app.engine.runtime import Device

from factories import build_tiny_restore3_model, make_photo, restore3_entry, write_manifest


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_restore3_model(folder / "restore3.onnx", shift=0.125)
    write_manifest(folder, [restore3_entry(folder)])
    return ModelRegistry([folder])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_restore_then_a_fill_replays_exactly_and_keeps_both_records(tmp_path, registry, dtype):
    source = make_photo(70, 90, 3, dtype)
    restored = restore(RasterImage(source, ImageInfo("TIFF", 8)), registry.open("tiny-restore3", Device.CPU),
                       RestoreOptions(denoise=0.5, deblock=None, sharpen=0.0, colour=False))
    assert restored.changed_pixels > 0
    restore_step = step_from_images(source, restored.pixels, restore_operation(restored, 70, 90))
    mask = np.zeros((70, 90), np.uint8)
    mask[20:30, 10:60] = 255
    request = InpaintRequest(method="telea")
    filled = Inpainter(ModelRegistry([])).inpaint(RasterImage(restored.pixels, ImageInfo("TIFF", 8)), mask, request)
    fill_step = step_from_images(restored.pixels, filled.pixels, operation_for(filled, request, mask))
    project = Project(tmp_path / "scan.tif", "ab" * 32, np.zeros((70, 90), np.uint8), [restore_step, fill_step], 2)

    reopened = load_project(save_project(project, tmp_path / "work.restorer"))
    assert [step.is_restore for step in reopened.steps] == [True, False]
    for position, expected in enumerate((source, restored.pixels, filled.pixels)):
        reopened.position = position
        np.testing.assert_array_equal(reopened.render(source), expected)
    record = reopened.steps[0].operation
    assert record == restore_step.operation
    assert record.action == "restore" and record.denoise == 0.5 and not record.denoise_auto and record.deblock_auto
    assert reopened.steps[1].operation.action == "fill"


def test_a_project_from_before_restores_existed_still_opens(tmp_path):
    source = make_photo(40, 50)
    after = source.copy()
    after[5:10, 5:20] = 0
    request = InpaintRequest(method="telea")
    result = Inpainter(ModelRegistry([])).inpaint(RasterImage(source, ImageInfo("TIFF", 8)),
                                                  (after != source).any(axis=2).astype(np.uint8) * 255, request)
    operation = operation_for(result, request, np.zeros((40, 50), np.uint8))
    step = step_from_images(source, after, operation)
    path = save_project(Project(tmp_path / "scan.tif", "cd" * 32, np.zeros((40, 50), np.uint8), [step], 1),
                        tmp_path / "old.restorer")
    # Rewrite the record as an older Restorer wrote it: none of the restore fields.
    restore_fields = {"action", "denoise", "deblock", "sharpen", "denoise_auto", "deblock_auto", "sharpen_auto",
                      "strengths_estimated_by", "colour_correction", "colour_changed"}
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    meta = json.loads(members["project.json"])
    old_record = {key: value for key, value in meta["steps"][0]["operation"].items() if key not in restore_fields}
    assert len(old_record) == len(dataclasses.asdict(operation)) - len(restore_fields)
    meta["steps"][0]["operation"] = old_record
    members["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)

    reopened = load_project(path)
    assert not reopened.steps[0].is_restore and reopened.steps[0].operation.action == "fill"
    np.testing.assert_array_equal(reopened.render(source), after)


def test_a_restore_record_with_a_wrong_strength_is_refused(tmp_path, registry):
    source = make_photo(30, 40)
    restored = restore(RasterImage(source, ImageInfo("TIFF", 8)), registry.open("tiny-restore3", Device.CPU),
                       RestoreOptions(colour=False))
    step = step_from_images(source, restored.pixels, restore_operation(restored, 30, 40))
    path = save_project(Project(tmp_path / "scan.tif", "ef" * 32, np.zeros((30, 40), np.uint8), [step], 1),
                        tmp_path / "bad.restorer")
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    meta = json.loads(members["project.json"])
    meta["steps"][0]["operation"]["denoise"] = "strong"
    members["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ProjectError, match="'denoise' should be"):
        load_project(path)
