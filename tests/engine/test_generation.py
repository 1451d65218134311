"""The generation model in the engine: which holes ``auto`` gives it, seeds and variations,
the record, and the extended canvas."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from factories import (build_tiny_generate_model, build_tiny_inpaint_model, generate_entry, make_photo, tiny_entry,
                       write_manifest)
from restorer_app.engine.canvas import CanvasError, Margins, extend_canvas, photo_part
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.methods import latent_code
from restorer_app.engine.pipeline import (GENERATE_DEPTH, GENERATE_EDGE_DEPTH, InpaintRequest, Inpainter,
                                          needs_generation)
from restorer_app.engine.provenance import operation_for
from restorer_app.engine.regions import inner_distance, regions_around_mask, wide_part
from restorer_app.engine.registry import ModelRegistry


@pytest.fixture
def both_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_inpaint_model(folder / "tiny.onnx")
    build_tiny_generate_model(folder / "generate.onnx")
    write_manifest(folder, [tiny_entry(folder), generate_entry(folder)])
    return folder


def _raster(pixels: np.ndarray) -> RasterImage:
    return RasterImage(pixels, ImageInfo("PNG", 16 if pixels.dtype == np.uint16 else 8))


def _corner_and_scratch(height: int = 240, width: int = 320) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, torn corner, scratch far from it)."""
    corner = np.zeros((height, width), np.uint8)
    cv2.fillPoly(corner, [np.array([[0, 0], [70, 0], [0, 60]], np.int32)], 255)
    scratch = np.zeros((height, width), np.uint8)
    cv2.line(scratch, (180, 150), (300, 220), 255, 3)
    return corner | scratch, corner, scratch


def test_seed_zero_is_the_inpainters_most_likely_fill_everywhere(both_models):
    mask, _, _ = _corner_and_scratch()
    result = Inpainter(ModelRegistry([both_models])).inpaint(_raster(make_photo(240, 320)), mask, InpaintRequest())
    assert result.generator is None and result.generated_pixels == 0 and result.model.id == "tiny"


def test_auto_gives_a_torn_corner_to_the_generation_model_and_a_scratch_to_the_inpainter(both_models):
    mask, corner, scratch = _corner_and_scratch()
    photo = make_photo(240, 320)
    result = Inpainter(ModelRegistry([both_models])).inpaint(_raster(photo), mask, InpaintRequest(seed=1))
    assert result.generator is not None and result.generator.id == "tiny-generate"
    assert result.model.id == "tiny"
    assert result.generated_pixels == np.count_nonzero(corner)
    assert result.changed_pixels == np.count_nonzero(mask)
    assert result.method_label == "Tiny test model 0.1 + Tiny generation model 0.1"
    assert any("another seed gives another variation" in n for n in result.notices)
    assert np.array_equal(result.pixels[mask == 0], photo[mask == 0])
    operation = operation_for(result, InpaintRequest(seed=1), mask)
    assert (operation.generator_id, operation.pixels_generated) == ("tiny-generate", np.count_nonzero(corner))


def test_seeds_change_the_generated_fill_and_repeat_exactly(both_models):
    mask, corner, scratch = _corner_and_scratch()
    image = _raster(make_photo(240, 320))
    inpainter = Inpainter(ModelRegistry([both_models]))
    first, second, again = (inpainter.inpaint(image, mask, InpaintRequest(seed=s, grain=0.0)).pixels
                            for s in (0, 1, 0))
    assert np.array_equal(first, again)
    changed = np.abs(first.astype(int) - second.astype(int)).max(axis=2)
    assert changed[corner > 0].mean() > 2  # the tiny model moves the whole hole by 4 x the code's mean
    assert changed[scratch > 0].max() == 0  # the inpainter's fill does not depend on the seed


def test_without_a_generation_model_auto_fills_everything_with_the_inpainter(tiny_model_folder):
    mask, _, _ = _corner_and_scratch()
    result = Inpainter(ModelRegistry([tiny_model_folder])).inpaint(_raster(make_photo(240, 320)), mask,
                                                                   InpaintRequest())
    assert result.generator is None and result.generated_pixels == 0
    assert not any("variation" in n for n in result.notices)


def test_a_damaged_generation_model_is_said_and_the_inpainter_fills_instead(both_models):
    (both_models / "generate.onnx").write_bytes(b"not a model")
    mask, _, _ = _corner_and_scratch()
    result = Inpainter(ModelRegistry([both_models])).inpaint(_raster(make_photo(240, 320)), mask,
                                                             InpaintRequest(seed=1))
    assert result.generator is None
    assert any("filled with the inpainting model instead" in n for n in result.notices)


def test_the_generation_model_can_be_chosen_as_the_method(both_models):
    mask, _, _ = _corner_and_scratch()
    inpainter = Inpainter(ModelRegistry([both_models]))
    assert "tiny-generate" in [m.id for m in inpainter.methods()]
    result = inpainter.inpaint(_raster(make_photo(240, 320)), mask, InpaintRequest(method="tiny-generate"))
    assert result.model.id == "tiny-generate" and result.method_label == "Tiny generation model 0.1"


@pytest.mark.parametrize("shape, expected", [
    ("edge_scratch", False),  # a scratch running off the edge: thin
    ("torn_corner", True),
    ("edge_band", True),  # an extended canvas
    ("small_blob", False),
    ("large_blob", True),
])
def test_which_holes_need_generation(shape, expected):
    height, width = 400, 400
    mask = np.zeros((height, width), np.uint8)
    if shape == "edge_scratch":
        cv2.line(mask, (0, 100), (150, 180), 255, 5)
    elif shape == "torn_corner":
        cv2.fillPoly(mask, [np.array([[0, 0], [90, 0], [0, 80]], np.int32)], 255)
    elif shape == "edge_band":
        mask[:, :2 * int(GENERATE_EDGE_DEPTH) + 4] = 255
    elif shape == "small_blob":
        cv2.circle(mask, (200, 200), int(GENERATE_DEPTH) - 10, 255, -1)
    else:
        cv2.circle(mask, (200, 200), int(GENERATE_DEPTH) + 10, 255, -1)
    (region,) = regions_around_mask(mask, 32)
    assert needs_generation(region, height, width) is expected


def test_latent_codes_are_standard_normal_at_an_eighth_of_the_size():
    code = latent_code(np.random.default_rng(3), 8, 128, 200, 8)
    assert code.shape == (1, 8, 16, 25) and code.dtype == np.float32
    assert abs(float(code.mean())) < 0.1 and abs(float(code.std()) - 1.0) < 0.1


# ------------------------------------------------------------------------- extended canvas

@pytest.mark.parametrize("text, expected", [
    ("10,20,30,40", Margins(10, 20, 30, 40)),
    ("16", Margins(16, 16, 16, 16)),
    ("8,12", Margins(8, 12, 8, 12)),
    ("10%,0,0,25%", Margins(20, 0, 0, 75)),
    ("5px, 0, 0, 0", Margins(5, 0, 0, 0)),
])
def test_margins_parse_pixels_and_percent_of_the_side(text, expected):
    assert Margins.parse(text, 200, 300) == expected


@pytest.mark.parametrize("text, says", [
    ("1,2,3", "1, 2 or 4 values"),
    ("a,0,0,0", "not a number"),
    ("0", "nothing to extend"),
    ("0,301,0,0", "larger than the photo's width"),
    ("-5,0,0,0", "not a number"),
])
def test_bad_margins_are_refused_with_a_sentence(text, says):
    with pytest.raises(CanvasError, match=says):
        Margins.parse(text, 200, 300)


@pytest.mark.parametrize("channels, dtype", [(3, np.uint8), (4, np.uint16), (1, np.uint8)])
def test_extend_canvas_keeps_the_photo_bit_identical_and_masks_the_band(channels, dtype):
    photo = make_photo(60, 80, channels=channels, dtype=dtype)
    margins = Margins(5, 7, 9, 11)
    canvas, mask = extend_canvas(_raster(photo), margins)
    assert canvas.pixels.shape == (74, 98, channels) and canvas.pixels.dtype == dtype
    assert np.array_equal(photo_part(canvas.pixels, margins), photo)
    assert np.count_nonzero(mask) == 74 * 98 - 60 * 80
    assert not photo_part(mask[:, :, None], margins).any()
    if channels == 4:
        assert (canvas.pixels[mask > 0, 3] == 65535).all()


def test_an_extended_canvas_is_generated_and_the_photo_left_alone(both_models):
    photo = make_photo(120, 160)
    margins = Margins(0, 40, 0, 40)
    canvas, mask = extend_canvas(_raster(photo), margins)
    inpainter = Inpainter(ModelRegistry([both_models]))
    assert inpainter.for_extension(InpaintRequest()).method == "auto"  # seed 0: the most likely fill
    request = inpainter.for_extension(InpaintRequest(seed=2))
    assert request.method == "tiny-generate"
    result = inpainter.inpaint(canvas, mask, request)
    assert result.model.id == "tiny-generate" and result.changed_pixels == np.count_nonzero(mask)
    assert np.array_equal(photo_part(result.pixels, margins), photo)
    assert (result.pixels[mask > 0] != canvas.pixels[mask > 0]).any()


def test_the_photo_edge_is_not_known_pixels_for_the_depth_of_a_border_hole():
    """A 60 px band torn off the left edge is 60 px deep, so a description reaches into it;
    a scratch running off the edge stays thin."""
    band = np.zeros((200, 300), np.uint8)
    band[:, :60] = 255
    (region,) = regions_around_mask(band, 32)
    assert inner_distance(region).max() < 32 <= inner_distance(region, (200, 300)).max()
    assert not wide_part(region, 32).any() and wide_part(region, 32, (200, 300)).any()
    scratch = np.zeros((200, 300), np.uint8)
    cv2.line(scratch, (0, 50), (120, 90), 255, 5)
    (region,) = regions_around_mask(scratch, 32)
    assert inner_distance(region, (200, 300)).max() <= 4
