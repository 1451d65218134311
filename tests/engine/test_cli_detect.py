"""`restorer detect` and `restorer repair` with a tiny detector (damage = the mean of the
channels, so bright marks on a dark photo are what it flags) in a model folder of their own."""

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer_app import cli
from restorer_app.engine import pipeline
from restorer_app.engine.detection import REPAIR_GROW, damage_mask
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image

from factories import build_tiny_detect_model, build_tiny_inpaint_model, detect_entry, make_photo, tiny_entry, \
    write_manifest


def damaged_photo(height=90, width=120, channels=3, dtype=np.uint8, seed=0) -> np.ndarray:
    """A dark photo (mean well under 0.5) with bright scratches and specks on it."""
    photo = make_photo(height, width, channels, dtype, seed) // 3
    top = np.iinfo(dtype).max
    cv2.line(photo, (5, 8), (width - 10, height - 20), (top,) * channels, 1)
    for y, x in ((20, 90), (60, 30), (70, 100)):
        photo[y:y + 2, x:x + 2] = int(top * 0.8)
    return photo


def expected_mask(photo: np.ndarray, threshold: float = 0.5, grow: int = 0) -> np.ndarray:
    colour = photo[..., :3].astype(np.float32) / np.iinfo(photo.dtype).max
    probability = np.clip(np.rint(colour.mean(axis=2) * 255), 0, 255).astype(np.uint8)
    return damage_mask(probability, threshold, grow)


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_detect_model(folder / "detect.onnx")
    write_manifest(folder, [detect_entry(folder)])
    monkeypatch.setattr(pipeline, "default_model_folders", lambda: [folder])
    return folder


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in args], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def damaged(tmp_path):
    photo = damaged_photo()
    Image.fromarray(photo).save(tmp_path / "old.png")
    return tmp_path, photo


def test_detect_writes_a_zero_or_255_mask_of_the_photos_size(models, damaged):
    folder, photo = damaged
    before = (folder / "old.png").read_bytes()
    code, out, err = run("detect", folder / "old.png", "-o", folder / "mask.png", "--save-probability")
    assert code == 0, err
    mask = np.asarray(Image.open(folder / "mask.png"))
    assert mask.shape == photo.shape[:2] and mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    np.testing.assert_array_equal(mask, expected_mask(photo))
    flagged = np.count_nonzero(mask)
    assert f"{flagged} pixels flagged ({100 * flagged / mask.size:.2f} %)" in out
    assert "tiny-detect 0.1 on CPU (ONNX Runtime)" in out
    probability = np.asarray(Image.open(folder / "mask.probability.png"))
    assert probability.shape == photo.shape[:2] and len(np.unique(probability)) > 2
    assert (folder / "old.png").read_bytes() == before
    assert not (folder / "mask.png.restorer.json").exists()


def test_the_threshold_and_grow_change_what_is_flagged(models, damaged):
    folder, photo = damaged
    shares = {}
    for threshold in ("0.2", "0.5", "0.9"):
        assert run("detect", folder / "old.png", "-o", folder / f"m{threshold}.png", "--threshold", threshold)[0] == 0
        shares[threshold] = np.count_nonzero(np.asarray(Image.open(folder / f"m{threshold}.png")))
    assert shares["0.2"] > shares["0.5"] > shares["0.9"] > 0
    assert run("detect", folder / "old.png", "-o", folder / "grown.png", "--grow", "2")[0] == 0
    grown = np.asarray(Image.open(folder / "grown.png"))
    np.testing.assert_array_equal(grown, expected_mask(photo, 0.5, 2))
    assert np.count_nonzero(grown) > shares["0.5"]


@pytest.mark.parametrize("args, words", [
    (["--threshold", "1.5"], "--threshold must be between 0 and 1"),
    (["--grow", "-1"], "--grow must be 0 or more"),
])
def test_bad_detect_options_are_usage_errors(models, damaged, args, words):
    folder, _ = damaged
    code, _, err = run("detect", folder / "old.png", "-o", folder / "mask.png", *args)
    assert code == 2 and words in err and not (folder / "mask.png").exists()


def test_a_mask_is_never_written_lossy_over_the_photo_or_over_an_existing_file(models, damaged):
    folder, _ = damaged
    code, _, err = run("detect", folder / "old.png", "-o", folder / "mask.jpg")
    assert code == 2 and "losslessly" in err
    code, _, err = run("detect", folder / "old.png", "-o", folder / "old.png")
    assert code == 2 and "original" in err
    (folder / "mask.png").write_bytes(b"keep me")
    code, _, err = run("detect", folder / "old.png", "-o", folder / "mask.png")
    assert code == 2 and "--overwrite" in err and (folder / "mask.png").read_bytes() == b"keep me"
    assert run("detect", folder / "old.png", "-o", folder / "mask.png", "--overwrite")[0] == 0
    assert Image.open(folder / "mask.png").size == (120, 90)


def test_batch_masks_feed_inpaint_mask_dir(models, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(2):
        Image.fromarray(damaged_photo(seed=index)).save(photos / f"p{index}.tif")
    code, out, err = run("detect", photos / "p0.tif", photos / "p1.tif", "--out-dir", tmp_path / "masks")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["p0.png", "p1.png"]
    assert "[2/2] p1.tif:" in err
    code, _, err = run("inpaint", photos / "p0.tif", photos / "p1.tif", "--mask-dir", tmp_path / "masks",
                       "--out-dir", tmp_path / "fixed", "--method", "telea")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "fixed").iterdir() if p.suffix == ".tif") == ["p0.tif", "p1.tif"]


def test_repair_changes_only_the_grown_detected_pixels_and_records_the_detector(models, damaged):
    folder, photo = damaged
    code, out, err = run("repair", folder / "old.png", "-o", folder / "fixed.png", "--save-synthesized-mask")
    assert code == 0, err
    mask = expected_mask(photo, 0.5, REPAIR_GROW)
    assert np.count_nonzero(mask) > np.count_nonzero(expected_mask(photo))
    fixed = np.asarray(Image.open(folder / "fixed.png"))
    np.testing.assert_array_equal(fixed[mask == 0], photo[mask == 0])
    np.testing.assert_array_equal(fixed, cv2.inpaint(photo, mask, 3, cv2.INPAINT_TELEA))  # auto, no model: Telea
    np.testing.assert_array_equal(np.asarray(Image.open(folder / "fixed.synthesized.png")) > 0, mask > 0)
    record = json.loads((folder / "fixed.png.restorer.json").read_text())
    (operation,) = record["operations"]
    assert operation["detector_id"] == "tiny-detect" and operation["detector_version"] == "0.1"
    assert operation["detection_threshold"] == 0.5 and operation["detection_grow"] == REPAIR_GROW
    assert operation["detected_pixels"] == np.count_nonzero(expected_mask(photo))
    assert operation["pixels_changed"] == np.count_nonzero(mask)
    assert len(operation["detector_sha256"]) == 64
    flagged = np.count_nonzero(expected_mask(photo))
    assert f"{flagged} pixels flagged" in out and f"{np.count_nonzero(mask)} once grown by 1 px" in out
    assert "tiny-detect 0.1" in out and "Telea" in out
    assert len(err.splitlines()) == len(set(err.splitlines()))  # a notice (CUDA fallback) said once
    code, said, err = run("verify", folder / "fixed.png")
    assert code == 0, err
    assert "mask detected by tiny-detect 0.1 at threshold 0.5, grown 1 px" in said


def test_repair_keeps_a_sixteen_bit_tiff_sixteen_bit_with_its_profile(models, tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    scan = damaged_photo(dtype=np.uint16)
    save_image(RasterImage(scan, ImageInfo("TIFF", 16, icc_profile=profile)), tmp_path / "scan.tif")
    code, _, err = run("repair", tmp_path / "scan.tif", "-o", tmp_path / "fixed.tif", "--threshold", "0.6")
    assert code == 0, err
    fixed = load_image(tmp_path / "fixed.tif")
    mask = expected_mask(scan, 0.6, REPAIR_GROW)
    assert fixed.pixels.dtype == np.uint16 and fixed.info.icc_profile == profile
    np.testing.assert_array_equal(fixed.pixels[mask == 0], scan[mask == 0])
    assert np.any(fixed.pixels[mask > 0] != scan[mask > 0])
    record = json.loads((tmp_path / "fixed.tif.restorer.json").read_text())
    assert record["operations"][0]["detection_threshold"] == 0.6
    assert run("verify", tmp_path / "fixed.tif")[0] == 0


def test_repair_with_a_learned_fill_records_both_models(models, damaged):
    build_tiny_inpaint_model(models / "tiny.onnx")
    write_manifest(models, [detect_entry(models), tiny_entry(models)])
    folder, photo = damaged
    code, _, err = run("repair", folder / "old.png", "-o", folder / "fixed.png", "--method", "tiny")
    assert code == 0, err
    (operation,) = json.loads((folder / "fixed.png.restorer.json").read_text())["operations"]
    assert (operation["model_id"], operation["detector_id"]) == ("tiny", "tiny-detect")
    fixed = np.asarray(Image.open(folder / "fixed.png"))
    mask = expected_mask(photo, 0.5, REPAIR_GROW)
    np.testing.assert_array_equal(fixed[mask == 0], photo[mask == 0])
    assert run("verify", folder / "fixed.png")[0] == 0


def test_repair_that_finds_nothing_writes_an_unchanged_copy_and_says_so(models, tmp_path):
    clean = make_photo(60, 80) // 3
    Image.fromarray(clean).save(tmp_path / "clean.png")
    code, _, err = run("repair", tmp_path / "clean.png", "-o", tmp_path / "out.png")
    assert code == 0, err
    assert "no damage found in clean.png" in err and "unchanged copy" in err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), clean)
    assert json.loads((tmp_path / "out.png.restorer.json").read_text())["operations"] == []
    assert run("verify", tmp_path / "out.png")[0] == 0


def test_repair_refuses_an_existing_output_without_overwrite(models, damaged):
    folder, _ = damaged
    (folder / "fixed.png").write_bytes(b"earlier work")
    code, _, err = run("repair", folder / "old.png", "-o", folder / "fixed.png")
    assert code == 2 and "--overwrite" in err and (folder / "fixed.png").read_bytes() == b"earlier work"
    assert run("repair", folder / "old.png", "-o", folder / "fixed.png", "--overwrite")[0] == 0
    assert run("verify", folder / "fixed.png")[0] == 0


def test_repair_batch_keeps_folders_and_goes_on_past_a_bad_file(models, tmp_path):
    for box in ("a", "b"):
        (tmp_path / box).mkdir()
        Image.fromarray(damaged_photo(seed=ord(box))).save(tmp_path / box / "x.png")
    (tmp_path / "b" / "broken.png").write_bytes(b"not a png")
    inputs = [tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", tmp_path / "b" / "broken.png"]
    code, _, err = run("repair", *inputs, "--out-dir", tmp_path / "out")
    assert code == 2 and "--keep-folders" in err
    code, _, err = run("repair", *inputs, "--out-dir", tmp_path / "out", "--keep-folders")
    assert code == 1 and "1 of 3 images failed" in err and "broken.png" in err
    for box in ("a", "b"):
        assert run("verify", tmp_path / "out" / box / "x.png")[0] == 0


def test_no_detector_installed_is_one_readable_line(tmp_path, monkeypatch, damaged):
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setattr(pipeline, "default_model_folders", lambda: [empty])
    folder, _ = damaged
    for command in ("detect", "repair"):
        code, _, err = run(command, folder / "old.png", "-o", folder / "out.png")
        assert code == 1
        assert err.splitlines() == [err.strip()] and "No damage detection model is installed" in err
        assert not (folder / "out.png").exists()


def test_a_damaged_detector_is_one_readable_line(models, damaged):
    with (models / "detect.onnx").open("r+b") as handle:
        handle.seek(30)
        handle.write(b"\xff\xff")
    folder, _ = damaged
    code, _, err = run("repair", folder / "old.png", "-o", folder / "out.png")
    assert code == 1 and "damaged or was replaced" in err and len(err.strip().splitlines()) == 1


def test_models_lists_the_detector(models):
    code, out, _ = run("models")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("tiny-detect"))
    assert "detect" in line and "ready" in line and "(default)" in line
