"""Damage detection: the probability map over tiles, the masks a threshold gives, and how a
repair (a fill of a detected mask) is recorded."""

import json
import tracemalloc

import numpy as np
import pytest

from restorer_app.engine import tensors
from restorer_app.engine.detection import (DamageDetector, DamageMap, detect_damage, detection_tiles, level_of,
                                           open_detector)
from restorer_app.engine.errors import ModelCorruptError, ModelError, ModelMissingError, OperationCancelled
from restorer_app.engine.progress import RecordingProgress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import Device
from restorer_app.engine.image_formats import HISTORY_KEY
from restorer_app.engine.provenance import Operation, embedded_tags, with_detection
from restorer_app.engine.xmp import xmp_packet

from factories import (build_tiny_detect_model, build_tiny_restore_model, detect_entry, make_photo, restore_entry,
                       write_manifest)


def fill_record(**overrides) -> Operation:
    values = dict(method="telea", method_label="Telea", model_id=None, model_version=None, model_sha256=None,
                  description="", seed=0, device="CPU (OpenCV)", time="2026-11-23T15:00:00+00:00",
                  mask_sha256="cd" * 32, pixels_changed=40)
    values.update(overrides)
    return Operation(**values)


# ------------------------------------------------------------------------- provenance


def test_a_repair_records_its_detector_threshold_and_grow():
    probability = np.zeros((10, 10), np.uint8)
    probability[2, 2:7] = 200  # 5 px at 0.78
    probability[5, 5] = 100  # 1 px at 0.39
    damage = DamageMap(probability, "restorer-detect", "1.0", "ef" * 32)
    repair = with_detection(fill_record(), damage, 0.5, grow=1)
    assert (repair.detector_id, repair.detector_version, repair.detector_sha256) == ("restorer-detect", "1.0", "ef" * 32)
    assert (repair.detection_threshold, repair.detection_grow, repair.detected_pixels) == (0.5, 1, 5)
    assert with_detection(fill_record(), damage, 0.3).detected_pixels == 6
    assert fill_record().detector_summary is None


def test_the_detector_appears_in_the_xmp_event_and_the_one_line_history():
    damage = DamageMap(np.full((4, 4), 255, np.uint8), "restorer-detect", "1.0", "ef" * 32)
    repair = with_detection(fill_record(), damage, 0.4, grow=2)
    packet = xmp_packet([repair, fill_record()]).decode("utf-8")
    assert "mask detected by restorer-detect 1.0 at threshold 0.4, grown 2 px sha256 " + "ef" * 32 in packet
    assert "(16 pixels flagged)" in packet
    assert packet.count("mask detected by") == 1  # the painted fill says nothing of a detector
    history = embedded_tags([repair])[HISTORY_KEY]
    assert "(Telea; damage found by restorer-detect 1.0 at threshold 0.4, grown 2 px)" in history
    assert "damage found" not in embedded_tags([fill_record()])[HISTORY_KEY]


def test_an_old_record_without_detector_fields_is_still_an_operation():
    old = json.loads(json.dumps({k: v for k, v in fill_record().__dict__.items()
                                 if not k.startswith("detect")}))
    assert Operation(**old).detector_id is None and Operation(**old).detected_pixels == 0


# ------------------------------------------------------------------------- detection


@pytest.fixture
def detect_registry(tmp_path):
    build_tiny_detect_model(tmp_path / "detect.onnx")
    build_tiny_restore_model(tmp_path / "restore.onnx")
    write_manifest(tmp_path, [detect_entry(tmp_path, max_side=1024), restore_entry(tmp_path)])
    return ModelRegistry([tmp_path])


@pytest.fixture
def detector(detect_registry):
    return open_detector(detect_registry, Device.CPU)


def expected_probability(pixels: np.ndarray) -> np.ndarray:
    """What the tiny detector (damage = mean of the channels) gives, as the map stores it."""
    rgb = tensors.to_float_rgb(pixels)
    return np.clip(np.rint(rgb.mean(axis=2) * 255), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("height, width, tile, margin", [(300, 200, 96, 16), (97, 131, 64, 8), (50, 40, 64, 8),
                                                         (1000, 129, 128, 48)])
def test_kept_parts_cover_every_pixel_once_and_keep_the_margin_from_neighbours(height, width, tile, margin):
    covered = np.zeros((height, width), np.int32)
    pairs = detection_tiles(height, width, tile, margin)
    for side in ({k.x1 - k.x0 for _, k in pairs}, {k.y1 - k.y0 for _, k in pairs}):
        assert max(side) - min(side) <= 1  # kept parts split evenly: no slivers
    for box, kept in detection_tiles(height, width, tile, margin):
        assert box.x1 - box.x0 <= tile and box.y1 - box.y0 <= tile
        assert box.x0 <= kept.x0 < kept.x1 <= box.x1 and box.y0 <= kept.y0 < kept.y1 <= box.y1
        # Where the kept part stops short of the photo's edge, the tile gives it context.
        # (or reaches the photo's edge, beyond which there is nothing to see).
        for inner, outer, edge in ((kept.x0, box.x0, 0), (kept.y0, box.y0, 0)):
            assert inner == edge or outer == edge or inner - outer >= margin
        for inner, outer, edge in ((kept.x1, box.x1, width), (kept.y1, box.y1, height)):
            assert inner == edge or outer == edge or outer - inner >= margin
        covered[kept.slices] += 1
    assert (covered == 1).all()


def test_a_tile_too_small_for_its_margin_is_refused():
    with pytest.raises(ValueError, match="margin"):
        detection_tiles(100, 100, 64, 32)


@pytest.mark.parametrize("channels, dtype", [(3, np.uint8), (1, np.uint8), (4, np.uint8), (3, np.uint16),
                                             (1, np.uint16), (2, np.uint16)])
def test_a_tiled_run_equals_one_whole_photo_run_bit_for_bit(detector, channels, dtype):
    photo = make_photo(203, 157, channels, dtype)
    tiled = DamageDetector(detector, tile=104).detect(photo)
    whole = DamageDetector(detector, tile=256).detect(photo)
    assert len(detection_tiles(203, 157, DamageDetector(detector, tile=104).tile)) > 4
    assert tiled.probability.shape == (203, 157) and tiled.probability.dtype == np.uint8
    np.testing.assert_array_equal(tiled.probability, whole.probability)
    np.testing.assert_array_equal(whole.probability, expected_probability(photo))
    assert (whole.model_id, whole.model_version) == ("tiny-detect", "0.1")
    assert whole.model_sha256 == detector.entry.sha256


def test_alpha_is_ignored(detector):
    photo = make_photo(60, 70, 4)
    transparent = photo.copy()
    transparent[..., 3] = 0
    np.testing.assert_array_equal(detect_damage(photo, detector).probability,
                                  detect_damage(transparent, detector).probability)


def test_progress_reaches_one_tile_by_tile(detector):
    progress = RecordingProgress()
    DamageDetector(detector, tile=104).detect(make_photo(203, 157), progress)
    fractions = [fraction for fraction, _ in progress.reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 4
    assert progress.reports[-1][1] == f"Examined tile {len(fractions)} of {len(fractions)}"


def test_cancel_stops_between_tiles(detector):
    progress = RecordingProgress(cancel_after=2)
    with pytest.raises(OperationCancelled):
        DamageDetector(detector, tile=104).detect(make_photo(203, 157), progress)
    assert len(progress.reports) == 2


def test_a_model_of_another_kind_is_refused(detect_registry):
    with pytest.raises(ModelError, match="not a damage detector"):
        DamageDetector(detect_registry.open("tiny-restore", Device.CPU))
    with pytest.raises(ModelError, match="not a damage detector"):
        open_detector(detect_registry, Device.CPU, "tiny-restore")


def test_no_installed_detector_is_a_readable_typed_error(tiny_model_folder, tmp_path):
    with pytest.raises(ModelMissingError, match="No damage detection model is installed") as caught:
        open_detector(ModelRegistry([tiny_model_folder]))
    assert "\n" not in str(caught.value) and str(caught.value).endswith(".")


def test_a_damaged_detector_is_a_readable_typed_error(tmp_path):
    build_tiny_detect_model(tmp_path / "detect.onnx")
    write_manifest(tmp_path, [detect_entry(tmp_path)])
    with (tmp_path / "detect.onnx").open("r+b") as handle:
        handle.seek(20)
        handle.write(b"\x00\x00")
    with pytest.raises(ModelCorruptError, match="damaged or was replaced"):
        open_detector(ModelRegistry([tmp_path]))


def test_thresholds_and_their_levels():
    assert level_of(0.0) == 1 and level_of(1.0) == 255 and level_of(0.5) == 128
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            level_of(bad)
    probability = np.array([[0, 1, 127, 128, 254, 255]], np.uint8)
    damage = DamageMap(probability, "d", "1")
    # 0 flags every pixel with any probability (never a pixel the detector gave 0), 1 only certainty.
    assert damage.mask(0.0).tolist() == [[0, 255, 255, 255, 255, 255]]
    assert damage.mask(1.0).tolist() == [[0, 0, 0, 0, 0, 255]]
    assert damage.mask(0.5).tolist() == [[0, 0, 0, 255, 255, 255]]
    assert damage.share(0.5) == 0.5 and damage.share(1.0) == pytest.approx(1 / 6)


def test_grow_dilates_the_mask_round():
    probability = np.zeros((21, 21), np.uint8)
    probability[10, 10] = 255
    damage = DamageMap(probability, "d", "1")
    assert np.count_nonzero(damage.mask(0.5)) == 1
    grown = damage.mask(0.5, grow=3)
    assert grown[10, 7] == grown[10, 13] == grown[7, 10] == 255 and grown[10, 6] == 0
    assert grown[7, 7] == 0  # round, not square
    assert set(np.unique(grown)) == {0, 255}
    assert not DamageMap(np.zeros((5, 5), np.uint8), "d", "1").mask(0.5, grow=2).any()


def test_a_large_photo_is_examined_without_a_float_copy_of_it(detector):
    photo = np.zeros((4000, 6000, 3), np.uint8)
    photo[::7, :, 0] = 200
    tracemalloc.start()
    try:
        damage = DamageDetector(detector, tile=1024).detect(photo)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float_copy = photo.size * 4  # 288 MB
    assert peak < 100 * 2**20 < float_copy  # the 24 MB map and a few tiles' worth of tensors
    assert damage.probability[0, 0] == round(200 / 3) and damage.probability[1, 0] == 0
