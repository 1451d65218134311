import json

import cv2

import numpy as np
import pytest

from restorer_app.engine.errors import (
    DeviceUnavailableError,
    ModelCorruptError,
    ModelMissingError,
    ModelSignatureError,
)
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.methods import ClassicalAlgorithm, classical_fill
from restorer_app.engine.pipeline import DESCRIPTION_RAMP, InpaintRequest, Inpainter
from restorer_app.engine.registry import ModelKind, ModelRegistry, ModelStatus, bundled_models_folder
from restorer_app.engine.runtime import CPU, OPENCV_CPU, Device, Placement

from factories import TINY_SHIFT, build_tiny_inpaint_model, make_mask, make_photo, tiny_entry, write_manifest


def test_open_verifies_and_reports_the_provider_actually_used(tiny_model_folder):
    registry = ModelRegistry([tiny_model_folder])
    loaded = registry.open("tiny", Device.CPU)
    assert loaded.runtime.provider == CPU
    assert loaded.runtime.provider == loaded.session.get_providers()[0]
    assert loaded.runtime.notice is None
    assert registry.open("tiny", Device.CPU).session is loaded.session  # cached


def test_auto_device_reports_a_visible_notice_when_cuda_cannot_start(tiny_model_folder):
    import onnxruntime

    loaded = ModelRegistry([tiny_model_folder]).open("tiny", Device.AUTO)
    actual = loaded.session.get_providers()[0]
    assert loaded.runtime.provider == actual
    cuda_listed = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    if cuda_listed and actual == CPU:
        assert "CPU" in loaded.runtime.notice
    else:
        assert loaded.runtime.notice is None


def test_explicit_cuda_without_a_gpu_is_a_typed_error(tiny_model_folder):
    registry = ModelRegistry([tiny_model_folder])
    try:
        loaded = registry.open("tiny", Device.CUDA)
    except DeviceUnavailableError as exc:
        assert "--device cpu" in str(exc)
    else:  # a machine with a working GPU
        assert loaded.runtime.provider == "CUDAExecutionProvider"


def test_hash_mismatch_is_reported_as_corrupt(tiny_model_folder):
    path = tiny_model_folder / "tiny.onnx"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelCorruptError, match="damaged or was replaced"):
        ModelRegistry([tiny_model_folder]).open("tiny")


def test_missing_file_and_unknown_id(tiny_model_folder):
    (tiny_model_folder / "tiny.onnx").unlink()
    registry = ModelRegistry([tiny_model_folder])
    assert registry.status(registry.get("tiny")) is ModelStatus.MISSING
    with pytest.raises(ModelMissingError, match="missing"):
        registry.open("tiny")
    with pytest.raises(ModelMissingError, match="no model 'other'"):
        registry.get("other")


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"inputs": [{"name": "image", "channels": 3}, {"name": "holes", "channels": 1}]}, "inputs"),
        ({"outputs": [{"name": "output", "channels": 4}]}, "channels"),
        ({"outputs": [{"name": "output", "dtype": "float16", "channels": 3}]}, "float16"),
        ({"inputs": [{"name": "image", "layout": "NHWCX", "channels": 3}, {"name": "mask", "channels": 1}]}, "dimensions"),
    ],
)
def test_signature_mismatch_is_reported(tiny_model_folder, overrides, words):
    write_manifest(tiny_model_folder, [tiny_entry(tiny_model_folder, **overrides)])
    with pytest.raises(ModelSignatureError, match=words):
        ModelRegistry([tiny_model_folder]).open("tiny", Device.CPU)


def test_broken_manifest_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "manifest.json").write_text("{ not json")
    registry = ModelRegistry([tmp_path])
    assert registry.entries() == [] and "cannot be read" in registry.problems[0]
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": [{"id": "x"}]}))
    assert "invalid" in ModelRegistry([tmp_path]).problems[0]


def test_onnx_fill_runs_prefill_model_and_pastes_only_the_hole(tiny_model_folder):
    registry = ModelRegistry([tiny_model_folder])
    inpainter = Inpainter(registry)
    photo, mask = make_photo(75, 93), make_mask(75, 93)  # not multiples of 8: exercises padding
    raster = RasterImage(photo, ImageInfo("PNG", 8))
    # (Grain off: it adds noise on top of what this test follows; tests/engine/test_grain.py.)
    raw = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU, harmonize=False, grain=0.0))
    assert raw.method_id == "tiny" and raw.provider == "CPU (ONNX Runtime)"
    keep = mask == 0
    np.testing.assert_array_equal(raw.pixels[keep], photo[keep])
    # Inside the hole: the Navier-Stokes pre-fill of each region plus the model's shift.
    prefill = classical_fill(photo, mask, ClassicalAlgorithm.NS).astype(int)
    expected = np.clip(prefill + round(TINY_SHIFT * 255), 0, 255)
    assert np.abs(raw.pixels[~keep].astype(int) - expected[~keep]).mean() < 3.0
    # Harmonizing (opt-in) takes the model's brightness shift back out at the seams.
    matched = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU, harmonize=True, grain=0.0))
    np.testing.assert_array_equal(matched.pixels[keep], photo[keep])
    shift = np.abs(matched.pixels[~keep].astype(int) - prefill[~keep]).mean()
    assert shift < 0.3 * TINY_SHIFT * 255


def test_auto_falls_back_to_telea_with_a_notice_when_the_model_is_corrupt(tiny_model_folder):
    path = tiny_model_folder / "tiny.onnx"
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    photo, mask = make_photo(40, 40), make_mask(40, 40)
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask, InpaintRequest())
    assert result.method_id == "telea"
    assert any("Telea" in n and "tiny" in n for n in result.notices)


def test_text_model_gets_an_embedding_input(tmp_path):
    build_tiny_inpaint_model(tmp_path / "t.onnx", with_text=True)
    entry = tiny_entry(tmp_path, "t.onnx", text_embedding_size=4)
    entry["inputs"].append({"name": "text", "dtype": "float32", "layout": "NC", "channels": 4})
    write_manifest(tmp_path, [entry])
    inpainter = Inpainter(ModelRegistry([tmp_path]))
    assert [m.uses_text for m in inpainter.methods()][:2] == [True, True]
    photo, mask = make_photo(32, 32), make_mask(32, 32)
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask, InpaintRequest(device=Device.CPU))
    assert result.method_id == "tiny"


def test_bundled_manifest_is_valid_and_every_listed_model_verifies():
    registry = ModelRegistry([bundled_models_folder()])
    assert registry.problems == []
    for entry in registry.entries():
        registry.verify(entry)
        assert entry.kind in (ModelKind.INPAINT, ModelKind.DETECT, ModelKind.RESTORE, ModelKind.GENERATE,
                              ModelKind.TEXT_ENCODER)
    assert {e.kind for e in registry.entries()} >= {ModelKind.INPAINT, ModelKind.DETECT, ModelKind.RESTORE,
                                                    ModelKind.GENERATE}


def test_expected_placement_names_where_a_fill_would_run(tiny_model_folder):
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    assert inpainter.expected_placement("telea") == OPENCV_CPU
    assert inpainter.expected_placement("telea").label == "CPU (OpenCV)"
    loaded = inpainter.registry.open("tiny", Device.AUTO)
    expected = Placement(Device.of_provider(loaded.runtime.provider), "ONNX Runtime")
    assert inpainter.expected_placement("auto") == expected == inpainter.expected_placement("tiny")
    assert inpainter.expected_placement("no-such-model") is None


@pytest.fixture
def text_inpainter(tmp_path) -> Inpainter:
    """A tiny text-capable model (its fill moves with the embedding) plus the shipped encoder."""
    build_tiny_inpaint_model(tmp_path / "t.onnx", with_text=True, text_size=384)
    entry = tiny_entry(tmp_path, "t.onnx", text_embedding_size=384)
    entry["inputs"].append({"name": "text", "dtype": "float32", "layout": "NC", "channels": 384})
    write_manifest(tmp_path, [entry])
    inpainter = Inpainter(ModelRegistry([tmp_path, bundled_models_folder()]))
    return inpainter


def test_a_description_reaches_a_text_model_through_the_shipped_encoder(text_inpainter):
    inpainter = text_inpainter
    raster = RasterImage(make_photo(120, 120), ImageInfo("PNG", 8))
    mask = np.zeros((120, 120), np.uint8)
    cv2.circle(mask, (60, 60), 44, 255, -1)  # a hole wide enough to take a description
    fills = {}
    for prompt in ("", "bright red", "dark blue water"):
        request = InpaintRequest(device=Device.CPU, prompt=prompt, harmonize=False)
        result = inpainter.inpaint(raster, mask, request)
        assert result.method_id == "tiny" and all("spots" in n for n in result.notices)
        fills[prompt] = result.pixels[mask > 0].astype(int)
    assert not np.array_equal(fills[""], fills["bright red"])
    assert not np.array_equal(fills["bright red"], fills["dark blue water"])


def test_holes_larger_than_the_models_size_are_filled_small_and_pasted_at_full_size(tmp_path):
    build_tiny_inpaint_model(tmp_path / "tiny.onnx")
    write_manifest(tmp_path, [tiny_entry(tmp_path, max_side=64)])
    inpainter = Inpainter(ModelRegistry([tmp_path]))
    photo = make_photo(200, 260)
    mask = np.zeros((200, 260), np.uint8)
    mask[60:140, 80:200] = 255
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask,
                               InpaintRequest(device=Device.CPU, harmonize=False))
    keep = mask == 0
    np.testing.assert_array_equal(result.pixels[keep], photo[keep])
    # The shift the model adds survives the round trip through the small size...
    prefill = classical_fill(photo, mask, ClassicalAlgorithm.NS).astype(int)
    delta = result.pixels[~keep].astype(int) - prefill[~keep]
    assert abs(np.median(delta) - TINY_SHIFT * 255) < 12
    # ...and the filled area is no blurrier than a full-resolution classical fill.
    lap = lambda a: np.abs(cv2.Laplacian(a.astype(np.float32), cv2.CV_32F))[70:130, 90:190].mean()  # noqa: E731
    assert lap(result.pixels) > 0.5 * lap(np.clip(prefill, 0, 255))


def test_descriptions_apply_to_holes_not_to_thin_scratches(text_inpainter):
    inpainter = text_inpainter
    raster = RasterImage(make_photo(200, 300), ImageInfo("PNG", 8))
    scratch = np.zeros((200, 300), np.uint8)
    cv2.line(scratch, (20, 10), (40, 190), 255, 3)
    tear = np.zeros_like(scratch)
    cv2.circle(tear, (220, 100), 40, 255, -1)
    both = scratch | tear

    def fill(mask, prompt):
        return inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU, prompt=prompt))

    plain, described = fill(both, ""), fill(both, "bright red")
    np.testing.assert_array_equal(described.pixels[scratch > 0], plain.pixels[scratch > 0])
    assert not np.array_equal(described.pixels[tear > 0], plain.pixels[tear > 0])
    assert any("used inside the areas wider than" in n for n in described.notices)
    only_thin = fill(scratch, "bright red")
    np.testing.assert_array_equal(only_thin.pixels, fill(scratch, "").pixels)
    assert any("description was not used" in n for n in only_thin.notices)


def test_a_scratch_touching_a_described_tear_is_filled_without_the_description(text_inpainter):
    inpainter = text_inpainter
    raster = RasterImage(make_photo(240, 240), ImageInfo("PNG", 8))
    tear = np.zeros((240, 240), np.uint8)
    cv2.circle(tear, (120, 120), 35, 255, -1)
    mask = tear.copy()
    cv2.line(mask, (120, 0), (120, 239), 255, 3)  # one region: a scratch through the tear
    plain = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU)).pixels.astype(int)
    red = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU, prompt="bright red")).pixels.astype(int)
    tail = (mask > 0) & (cv2.dilate(tear, np.ones((25, 25), np.uint8)) == 0)
    np.testing.assert_array_equal(red[tail], plain[tail])
    assert np.abs(red[tear > 0] - plain[tear > 0]).mean() > 5


def test_a_described_fill_continues_the_photo_at_the_edge_and_follows_the_description_inside(text_inpainter):
    inpainter = text_inpainter
    raster = RasterImage(make_photo(200, 200), ImageInfo("PNG", 8))
    mask = np.zeros((200, 200), np.uint8)
    cv2.circle(mask, (100, 100), 50, 255, -1)
    plain = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU)).pixels.astype(int)
    red = inpainter.inpaint(raster, mask, InpaintRequest(device=Device.CPU, prompt="bright red")).pixels.astype(int)
    depth = cv2.distanceTransform(mask // 255, cv2.DIST_L2, 3)
    edge, deep = (depth > 0) & (depth <= 2), depth > DESCRIPTION_RAMP + 2
    step = lambda where: np.abs(red[where] - plain[where]).mean()  # noqa: E731
    assert step(deep) > 5  # the description is followed inside ...
    assert step(edge) < 0.2 * step(deep)  # ... and hardly shows at the edge
