"""Model kinds: each kind's declared inputs and outputs, checked on load, and the whole-photo
runners (restore, detect) on the strategy layer's tiles."""

import numpy as np
import pytest

from restorer_app.engine.errors import ModelError, ModelSignatureError, OperationCancelled
from restorer_app.engine.kinds import KIND_SIGNATURES, ModelKind
from restorer_app.engine.photo_models import DetectRunner, RestoreRunner, runner_for
from restorer_app.engine.progress import RecordingProgress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import Device

from factories import (build_tiny_detect_model, build_tiny_restore_model, detect_entry, make_photo, restore_entry,
                       tiny_entry, write_manifest)


def test_every_kind_declares_its_inputs_and_outputs():
    assert set(KIND_SIGNATURES) == set(ModelKind)
    assert KIND_SIGNATURES[ModelKind.INPAINT].required_inputs == ("image", "mask")
    assert KIND_SIGNATURES[ModelKind.INPAINT].optional_inputs == ("text",)
    assert KIND_SIGNATURES[ModelKind.DETECT].outputs == ("damage",)
    assert KIND_SIGNATURES[ModelKind.DETECT].optional_outputs == ("classes",)
    assert KIND_SIGNATURES[ModelKind.RESTORE].required_inputs == ("image", "strength")
    assert KIND_SIGNATURES[ModelKind.GENERATE].required_inputs == ("image", "mask", "latent")


@pytest.fixture
def whole_photo_models(tmp_path):
    build_tiny_restore_model(tmp_path / "restore.onnx")
    build_tiny_restore_model(tmp_path / "brighten.onnx", shift=0.125)
    build_tiny_detect_model(tmp_path / "detect.onnx", with_classes=True)
    write_manifest(tmp_path, [restore_entry(tmp_path),
                              restore_entry(tmp_path, "brighten.onnx", "tiny-brighten", default=False),
                              detect_entry(tmp_path, with_classes=True)])
    return ModelRegistry([tmp_path])


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_an_identity_restore_model_over_tiles_gives_the_photo_back_bit_for_bit(whole_photo_models, channels, dtype):
    runner = runner_for(whole_photo_models.open("tiny-restore", Device.CPU), tile=48, overlap=12)
    assert isinstance(runner, RestoreRunner)
    photo = make_photo(101, 139, channels, dtype)  # not multiples of 8, several tiles each way
    if channels in (1, 2):  # gray (+alpha): the model sees the gray repeated
        photo[..., 0] = make_photo(101, 139, 1, dtype)[..., 0]
    progress = RecordingProgress()
    np.testing.assert_array_equal(runner.restore(photo, 1.0, progress), photo)
    tiles = [m for _, m in progress.reports if m.startswith("Tile")]
    assert len(tiles) == 12 and tiles[-1] == "Tile 12 of 12" and progress.reports[-1][0] == 1.0


def test_a_constant_change_over_tiles_has_no_seams(whole_photo_models):
    runner = runner_for(whole_photo_models.open("tiny-brighten", Device.CPU), tile=40, overlap=8)
    grey = np.full((90, 130, 3), 100, np.uint8)
    out = runner.restore(grey)
    assert (out == 100 + round(0.125 * 255)).all()
    half = runner.restore(grey, np.linspace(0, 1, 130, dtype=np.float32)[None, :].repeat(90, 0))
    assert (np.diff(half.astype(int), axis=1) >= 0).all() and half[:, 0].max() == 100


def test_a_detect_model_gives_damage_and_class_maps_at_the_photos_size(whole_photo_models):
    runner = runner_for(whole_photo_models.open("tiny-detect", Device.CPU), tile=32, overlap=8)
    assert isinstance(runner, DetectRunner)
    photo = make_photo(70, 45)
    found = runner.detect(photo)
    rgb = photo.astype(np.float32) / 255
    assert found.damage.shape == (70, 45) and found.classes.shape == (70, 45, 3)
    np.testing.assert_allclose(found.damage, rgb.mean(axis=2), atol=1e-6)
    np.testing.assert_allclose(found.classes, rgb, atol=1e-6)


def test_cancel_stops_between_tiles(whole_photo_models):
    runner = runner_for(whole_photo_models.open("tiny-restore", Device.CPU), tile=32, overlap=8)
    cancelling = RecordingProgress(cancel_after=2)
    with pytest.raises(OperationCancelled):
        runner.restore(make_photo(100, 100), 1.0, cancelling)
    assert [m for _, m in cancelling.reports] == ["Tile 1 of 16", "Tile 2 of 16"]


def test_a_model_of_another_kind_has_no_whole_photo_runner(tiny_model_folder):
    with pytest.raises(ModelError, match="inpaint model"):
        runner_for(ModelRegistry([tiny_model_folder]).open("tiny", Device.CPU))


@pytest.mark.parametrize("overrides, words", [
    ({"kind": "restore"}, r"a restore model has inputs image, strength \(and optionally tone\) and outputs output "
                          r"\(and optionally levels, curves\)"),
    ({"kind": "detect"}, "not a damage detection model"),
    ({"text_embedding_size": 4}, "has no input 'text'"),
])
def test_a_manifest_that_does_not_fit_its_kind_is_refused_with_a_sentence(tiny_model_folder, overrides, words):
    write_manifest(tiny_model_folder, [tiny_entry(tiny_model_folder, **overrides)])
    with pytest.raises(ModelSignatureError, match=words) as caught:
        ModelRegistry([tiny_model_folder]).open("tiny", Device.CPU)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)
