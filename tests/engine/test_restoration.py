"""Whole-photo restoration: tiles that leave no seam, bit depths and layouts kept, strengths
estimated (by the model's levels output, or measured), the colour step's do-no-harm, progress,
cancel and memory."""

import re
import tracemalloc

import cv2
import numpy as np
import pytest

from restorer_app.engine.errors import ModelError, ModelMissingError, OperationCancelled, RestorerError
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.progress import RecordingProgress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.restoration import (TONE_QUANTILES, PhotoRestorer, RestoreOptions, blockiness_strength,
                                             noise_sigma, open_restorer, restore, sample_boxes, tone_features,
                                             tone_luts)
from restorer_app.engine.runtime import Device

from factories import (build_tiny_detect_model, build_tiny_restore3_model, build_tiny_restore_model, detect_entry,
                       make_photo, restore3_entry, restore_entry, write_manifest)

OFF = RestoreOptions(denoise=0.0, deblock=0.0, sharpen=0.0, colour=False)


@pytest.fixture
def registry(tmp_path):
    build_tiny_restore3_model(tmp_path / "restore3.onnx")
    build_tiny_restore3_model(tmp_path / "shift.onnx", shift=0.125)
    build_tiny_restore3_model(tmp_path / "blur.onnx", shift=0.125, blur=True)
    build_tiny_restore3_model(tmp_path / "plain.onnx", with_levels=False)
    build_tiny_restore_model(tmp_path / "one.onnx", shift=0.125)
    build_tiny_restore3_model(tmp_path / "tone.onnx", tone_scale=1.0)
    build_tiny_restore3_model(tmp_path / "toneless.onnx", tone_scale=0.0)
    build_tiny_detect_model(tmp_path / "detect.onnx")
    write_manifest(tmp_path, [restore3_entry(tmp_path),
                              restore3_entry(tmp_path, "shift.onnx", "shift", default=False),
                              restore3_entry(tmp_path, "blur.onnx", "blur", default=False),
                              restore3_entry(tmp_path, "plain.onnx", "plain", with_levels=False, default=False),
                              restore_entry(tmp_path, "one.onnx", "one", default=False),
                              restore3_entry(tmp_path, "tone.onnx", "tone", with_tone=True, default=False),
                              restore3_entry(tmp_path, "toneless.onnx", "toneless", with_tone=True, default=False),
                              detect_entry(tmp_path)])
    return ModelRegistry([tmp_path])


def image_of(pixels: np.ndarray) -> RasterImage:
    return RasterImage(pixels, ImageInfo("PNG", 16 if pixels.dtype == np.uint16 else 8))


@pytest.mark.parametrize("size", [(150, 230), (64, 64), (97, 61)])
def test_a_tiled_run_equals_a_single_tile_run_within_a_level(registry, size):
    model = registry.open("blur", Device.CPU)  # a 3 x 3 blur: every pixel depends on its neighbours
    photo = make_photo(*size, seed=3)
    options = RestoreOptions(denoise=0.5, deblock=0.25, sharpen=1.0, colour=False)
    tiled = PhotoRestorer(model, tile=64).restore(photo, options)
    whole = PhotoRestorer(model, tile=1024).restore(photo, options)
    # At the photo's own border the padding to the size multiple differs (mirrored or not), so
    # a model that looks at neighbours differs there whatever the tiling; inside, no seam.
    inner = (slice(1, -1), slice(1, -1))
    assert np.abs(tiled.pixels[inner].astype(int) - whole.pixels[inner].astype(int)).max() <= 1
    per_pixel = registry.open("shift", Device.CPU)
    assert np.abs(PhotoRestorer(per_pixel, tile=64).restore(photo, options).pixels.astype(int)
                  - PhotoRestorer(per_pixel, tile=1024).restore(photo, options).pixels.astype(int)).max() <= 1
    # ... and it is the blur plus the strengths' shift, not the photo given back
    expected = cv2.blur(photo.astype(np.float32) / 255, (3, 3), borderType=cv2.BORDER_REPLICATE)
    assert np.abs(whole.pixels[1:-1, 1:-1].astype(float) / 255 - np.clip(expected[1:-1, 1:-1] + 0.125 * np.array(
        [0.5, 0.25, 1.0]), 0, 1)).max() < 1.5 / 255


def test_tiles_cross_fade_a_model_whose_result_depends_on_where_the_tile_lies(registry):
    """A constant change seen differently by each tile (levels-driven) still leaves no step:
    neighbouring values differ by no more than the fade allows."""
    model = registry.open("shift", Device.CPU)
    grey = np.full((120, 200, 3), 100, np.uint8)
    out = PhotoRestorer(model, tile=64).restore(grey, RestoreOptions(0.5, 0.5, 0.5, colour=False)).pixels
    assert (out == 100 + round(0.0625 * 255)).all()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_bit_depth_layout_and_alpha_are_kept(registry, dtype, channels):
    photo = make_photo(90, 130, channels, dtype, seed=1)
    if channels in (1, 2):
        photo[..., 0] = make_photo(90, 130, 1, dtype)[..., 0]
    if channels in (2, 4):
        photo[..., -1] = np.linspace(0, np.iinfo(dtype).max, 130).astype(dtype)[None, :]
    identity = PhotoRestorer(registry.open("tiny-restore3", Device.CPU), tile=64).restore(photo, OFF)
    assert identity.pixels.dtype == dtype and identity.pixels.shape == photo.shape
    np.testing.assert_array_equal(identity.pixels, photo)  # 16-bit in, the same 16 bits out
    assert identity.changed_pixels == 0
    shifted = PhotoRestorer(registry.open("shift", Device.CPU), tile=64).restore(
        photo, RestoreOptions(1.0, 0.0, 0.0, colour=False))
    assert shifted.pixels.dtype == dtype and shifted.pixels.shape == photo.shape
    if channels in (2, 4):
        np.testing.assert_array_equal(shifted.pixels[..., -1], photo[..., -1])
    assert (shifted.pixels[..., 0].astype(int) >= photo[..., 0]).all() and shifted.changed_pixels > 0


def test_progress_reaches_one_and_cancel_stops_between_tiles(registry):
    model = registry.open("shift", Device.CPU)
    progress = RecordingProgress()
    PhotoRestorer(model, tile=64).restore(make_photo(150, 150), RestoreOptions(), progress)
    fractions = [f for f, _ in progress.reports]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert any(m.startswith("Measured sample") for _, m in progress.reports)
    cancelling = RecordingProgress(cancel_after=2)
    with pytest.raises(OperationCancelled):
        PhotoRestorer(model, tile=64).restore(make_photo(150, 150), OFF, cancelling)
    said = [m for _, m in cancelling.reports]
    count = int(said[0].rsplit(" ", 1)[1])
    assert said == [f"Restored tile 1 of {count}", f"Restored tile 2 of {count}"] and count > 2


def test_auto_takes_the_models_own_estimate_and_given_strengths_win(registry):
    model = registry.open("tiny-restore3", Device.CPU)
    photo = np.empty((300, 600, 3), np.uint8)
    photo[:] = (51, 102, 153)  # the tiny model's "levels" is the per-channel mean: 0.2, 0.4, 0.6
    result = restore(image_of(photo), model, RestoreOptions(sharpen=0.9, colour=False))
    assert result.estimated_by == "model" and result.auto == (True, True, False)
    assert result.strengths.denoise == pytest.approx(0.2, abs=1e-4)
    assert result.strengths.deblock == pytest.approx(0.4, abs=1e-4)
    assert result.strengths.sharpen == 0.9
    assert result.model.id == "tiny-restore3" and result.provider.startswith("CPU")
    given = restore(image_of(photo), model, OFF)
    assert given.estimated_by is None and given.auto == (False, False, False)


def test_jpeg_blocks_the_model_missed_raise_its_deblock_estimate_and_the_record_says_so(registry):
    from restorer_app.engine.provenance import restore_operation

    model = registry.open("tiny-restore3", Device.CPU)
    clean = cv2.GaussianBlur(make_photo(512, 768, seed=2), (0, 0), 1.0) // 4  # dark: the tiny "estimate" is low
    _, encoded = cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, 10])
    blocky = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    restorer = PhotoRestorer(model)
    strengths, by = restorer.estimate(blocky)
    assert by == "model+blockiness" and strengths.deblock > 0.7
    assert strengths.denoise == pytest.approx(blocky[..., 0].mean() / 255, abs=0.02)  # still the model's
    result = restorer.restore(blocky, RestoreOptions(colour=False))
    summary = restore_operation(result, *blocky.shape[:2]).restore_summary
    assert re.search(r"deblock [\d.]+ \(auto, estimated by measurement\)", summary)
    assert re.search(r"denoise [\d.]+ \(auto, estimated by the model\)", summary)


def test_sample_tiles_are_spread_over_the_photo_on_the_block_grid():
    boxes = sample_boxes(1000, 3000)
    assert len(boxes) == 6 and all(b.width == b.height == 256 for b in boxes)
    assert all(b.x0 % 8 == 0 and b.y0 % 8 == 0 for b in boxes)
    assert len({b.x0 for b in boxes}) == 3 and len({b.y0 for b in boxes}) == 2
    assert sample_boxes(100, 80) == [sample_boxes(100, 80)[0]] and sample_boxes(100, 80)[0].width == 80
    assert all(b.x0 % 8 == 0 and b.y0 % 8 == 0 for b in sample_boxes(300, 301))  # clamped onto the grid too


def test_without_a_levels_output_noise_and_jpeg_blocks_are_measured(registry):
    model = registry.open("plain", Device.CPU)
    clean = make_photo(512, 768, seed=2)
    clean = cv2.GaussianBlur(clean, (0, 0), 1.0)  # make_photo's own speckle is noise too
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 15, clean.shape), 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, 10])
    blocky = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    restorer = PhotoRestorer(model)
    calm, how = restorer.estimate(clean)
    assert how == "classical" and calm.denoise < 0.1 and calm.deblock < 0.25 and calm.sharpen == 0.0
    assert 0.35 < restorer.estimate(noisy)[0].denoise < 0.65  # sigma 15 = 0.5
    assert restorer.estimate(blocky)[0].deblock > 0.7
    assert noise_sigma(np.zeros((64, 64, 3), np.float32)) == 0.0
    assert blockiness_strength(np.zeros((8, 8, 3), np.float32)) == 0.0


def test_the_colour_step_leaves_a_well_exposed_photo_alone(registry):
    model = registry.open("tiny-restore3", Device.CPU)
    photo = np.clip(make_photo(200, 300, seed=4).astype(int) * 1.25 - 30, 0, 255).astype(np.uint8)
    assert photo.min() == 0 and photo.max() == 255
    result = restore(image_of(photo), model, RestoreOptions(0.0, 0.0, 0.0, colour=True))
    assert np.abs(result.pixels.astype(int) - photo).max() <= 1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_the_colour_step_stretches_a_faded_photo_with_a_cast(registry, dtype):
    model = registry.open("tiny-restore3", Device.CPU)
    top = np.iinfo(dtype).max
    photo = make_photo(200, 300, dtype=dtype, seed=5).astype(np.float64) / top
    faded = photo * 0.55 + 0.25
    faded[..., 2] *= 0.8  # yellowed: blue lost
    pixels = np.rint(faded * top).astype(dtype)
    result = restore(image_of(pixels), model, RestoreOptions(0.0, 0.0, 0.0, colour=True))
    assert result.colour and result.colour_changed and result.pixels.dtype == dtype
    for channel in range(3):
        low, high = np.percentile(result.pixels[..., channel], [0.5, 99.5]) / top
        assert low < 0.06 and high > 0.94
    assert len(np.unique(result.pixels[..., 0])) > 256 if dtype == np.uint16 else True  # not cut to 8 bits
    off = restore(image_of(pixels), model, OFF)
    assert not off.colour and not off.colour_changed and (off.pixels == pixels).all()


def test_tone_features_are_each_channels_quantiles_and_their_tint():
    counts = np.zeros(256, np.int64)
    counts[[10, 200]] = 50  # half the pixels at 10, half at 200
    blue = np.zeros(256, np.int64)
    blue[100] = 100
    features = tone_features([counts, counts, blue], 255.0)
    q = len(TONE_QUANTILES)
    assert features.shape == (6 * q,) and features.dtype == np.float32
    red = features[:q]
    assert red[0] == pytest.approx(10 / 255) and red[-1] == pytest.approx(200 / 255)
    assert (features[2 * q:3 * q] == pytest.approx(100 / 255))
    tint = features[3 * q:].reshape(3, q)
    assert np.allclose(tint.sum(axis=0), 0, atol=1e-6)  # less the mean over the channels
    grey = tone_features([counts], 255.0)
    assert (grey[:q] == grey[q:2 * q]).all() and np.allclose(grey[3 * q:], 0)


def test_tone_luts_map_half_to_the_identity_and_stretch_about_mid_grey():
    identity = tone_luts(np.full(6, 0.5), 3, 65535.0)
    assert all(lut.dtype == np.uint16 and (lut == np.arange(65536)).all() for lut in identity)
    gain_up = tone_luts(np.array([1.0, 0.5, 0.5, 0.5, 0.5, 0.5]), 3, 255.0)[0]
    assert gain_up[127] <= 127 < 128 <= gain_up[128] and gain_up[64] < 20 and gain_up[192] > 235  # about 127.5
    lifted = tone_luts(np.array([0.5, 0.5, 0.5, 0.6, 0.5, 0.5]), 3, 255.0)[0]
    assert lifted[100] == 100 + round(0.1 * 255)  # offset 0.5 * (2 * 0.6 - 1) = 0.1
    assert len(tone_luts(np.full(6, 0.5), 1, 255.0)) == 1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_model_with_a_colour_step_gets_the_photos_quantiles_and_its_curves_are_applied(registry, dtype):
    top = np.iinfo(dtype).max
    photo = make_photo(160, 200, dtype=dtype, seed=6)
    same = restore(image_of(photo), registry.open("toneless", Device.CPU), RestoreOptions(0.0, 0.0, 0.0))
    assert same.colour and not same.colour_changed and (same.pixels == photo).all()  # curves 0.5: no harm
    restorer = PhotoRestorer(registry.open("tone", Device.CPU))
    result = restorer.restore(photo, RestoreOptions(0.0, 0.0, 0.0))
    histograms = [np.bincount(photo[..., c].ravel(), minlength=top + 1) for c in range(3)]
    # The tiny model's curves are the first six features: red's lowest quantiles.
    luts = tone_luts(tone_features(histograms, top)[:6], 3, top)
    expected = np.stack([luts[c][photo[..., c]] for c in range(3)], axis=2)
    # (the curves pass through the model in float32: at 16 bits a level may round the other way)
    assert result.colour_changed and result.pixels.dtype == dtype
    assert np.abs(result.pixels.astype(int) - expected).max() <= (0 if dtype == np.uint8 else 1)
    assert (result.pixels != photo).mean() > 0.5
    off = restorer.restore(photo, RestoreOptions(0.0, 0.0, 0.0, colour=False))
    assert (off.pixels == photo).all()


def test_a_large_photo_is_restored_without_a_float_copy_of_it(registry):
    model = registry.open("shift", Device.CPU)
    photo = np.zeros((4000, 6000, 3), np.uint8)
    photo[::7, :, 0] = 200
    tracemalloc.start()
    try:
        result = PhotoRestorer(model, tile=512).restore(photo, RestoreOptions(1.0, 0.0, 0.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float_copy = photo.size * 4  # 288 MB
    row_of_tiles = 528 * 6000 * 3 * 4  # 38 MB
    assert peak < photo.nbytes + row_of_tiles + 30 * 2**20 < float_copy  # the output, a row of tiles, one tile
    assert result.pixels.dtype == np.uint8 and result.pixels[0, 0, 0] > result.pixels[1, 0, 0]
    assert result.colour_changed  # measured and curved strip by strip too


def test_a_model_with_one_strength_channel_gets_the_largest_strength(registry):
    grey = np.full((40, 50, 3), 100, np.uint8)
    result = PhotoRestorer(registry.open("one", Device.CPU)).restore(grey, RestoreOptions(0.2, 1.0, 0.0, colour=False))
    assert (result.pixels == 100 + round(0.125 * 255)).all()


def test_strengths_out_of_range_are_refused(registry):
    with pytest.raises(RestorerError, match="denoise strength must be between 0 and 1"):
        PhotoRestorer(registry.open("shift", Device.CPU)).restore(make_photo(), RestoreOptions(denoise=1.5))


def test_open_restorer_says_when_there_is_none_or_it_is_not_one(registry, tmp_path):
    assert open_restorer(registry, Device.CPU).entry.id == "tiny-restore3"
    assert open_restorer(registry, Device.CPU, "blur").entry.id == "blur"
    with pytest.raises(ModelError, match="not a photo restoration model"):
        open_restorer(registry, Device.CPU, "tiny-detect")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelMissingError, match="No photo restoration model is installed") as caught:
        open_restorer(ModelRegistry([empty]), Device.CPU)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)
    with pytest.raises(ModelError, match="not a photo restoration model"):
        PhotoRestorer(registry.open("tiny-detect", Device.CPU))


def test_a_restore_is_recorded_as_its_own_action(registry):
    import dataclasses
    import json

    from restorer_app.engine.image_formats import HISTORY_KEY
    from restorer_app.engine.project import _operation_of
    from restorer_app.engine.provenance import (Operation, embedded_tags, mask_sha256, restore_operation,
                                                whole_photo_sha256)
    from restorer_app.engine.xmp import event_marks, xmp_packet

    for height, width in ((90, 130), (7, 3), (8, 8)):
        assert whole_photo_sha256(height, width) == mask_sha256(np.full((height, width), 255, np.uint8))
    photo = make_photo(90, 130)
    result = restore(image_of(photo), registry.open("tiny-restore3", Device.CPU), RestoreOptions(deblock=0.0))
    op = restore_operation(result, 90, 130)
    assert op.is_restore and op.denoise_auto and not op.deblock_auto and op.deblock == 0.0
    assert op.pixels_changed == result.changed_pixels and op.strengths_estimated_by == "model"
    assert "deblock 0," in op.restore_summary and "(auto, estimated by the model)" in op.restore_summary
    fill = Operation(method="telea", method_label="Telea", model_id=None, model_version=None, model_sha256=None,
                     description="", seed=0, device="CPU (OpenCV)", time=op.time, mask_sha256="cd" * 32,
                     pixels_changed=40)
    history = embedded_tags([op, fill])[HISTORY_KEY]
    assert "restored by Tiny test model 0.1 (denoise" in history and "1 fill (Telea), 40 pixels synthesized" in history
    assert "fill" not in embedded_tags([op])[HISTORY_KEY]
    packet = xmp_packet([op]).decode()
    assert 'restorer:SynthesizedPixels="0"' in packet and all(m in packet for m in event_marks(dataclasses.asdict(op)))
    raw = json.loads(json.dumps(dataclasses.asdict(op)))
    assert Operation(**raw) == op and _operation_of(raw, "p.restorer", 1) == op  # projects read it back
