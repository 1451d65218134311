"""Display conversion: 8-bit views without copies, 16-bit and gray+alpha scaled for display only."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QImage

from restorer_app.engine.imageio import load_image
from restorer_app.engine.regions import Box
from restorer_app.gui.display import DisplayBuffer

from gui_helpers import damage_mask, run_fill


@pytest.mark.parametrize("channels, expected_format", [
    (1, QImage.Format.Format_Grayscale8), (3, QImage.Format.Format_RGB888), (4, QImage.Format.Format_RGBA8888),
])
def test_eight_bit_pixels_are_viewed_not_copied(channels, expected_format):
    pixels = np.zeros((6, 10, channels), np.uint8)
    display = DisplayBuffer(pixels)
    assert display.image.format() == expected_format
    pixels[2, 3] = 200  # an in-place edit shows without any refresh
    assert display.image.pixelColor(3, 2).red() == 200


def test_sixteen_bit_gray_alpha_is_shown_as_eight_bit_rgba_and_refreshed_by_box():
    pixels = np.zeros((6, 10, 2), np.uint16)
    pixels[..., 1] = 65535
    display = DisplayBuffer(pixels)
    assert display.image.format() == QImage.Format.Format_RGBA8888
    pixels[1:3, 1:3, 0] = 51400  # -> 200 in 8 bits
    assert display.image.pixelColor(1, 1).red() == 0
    display.refresh(Box(1, 1, 3, 3))
    colour = display.image.pixelColor(1, 1)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (200, 200, 200, 255)
    assert pixels.dtype == np.uint16  # the source keeps its precision


def test_sixteen_bit_photo_keeps_its_precision_through_fill_and_save(qtbot, window, tmp_path):
    rng = np.random.default_rng(7)
    pixels = (rng.integers(0, 65535, (96, 128, 3))).astype(np.uint16)
    source = tmp_path / "deep.png"
    cv2.imwrite(str(source), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    mask_path = tmp_path / "deep_mask.png"
    cv2.imwrite(str(mask_path), damage_mask())
    assert window.open_path(source, mask_path)
    window.panel.select_method("telea")
    assert window.status.depth.text() == "16-bit RGB"
    run_fill(qtbot, window)
    window.accept_fill()
    accepted = window.editor.document.image.pixels
    assert accepted.dtype == np.uint16
    assert window.save_as(tmp_path / "deep_restored.png")
    reloaded = load_image(tmp_path / "deep_restored.png")
    np.testing.assert_array_equal(reloaded.pixels, accepted)
    outside = damage_mask() == 0
    np.testing.assert_array_equal(reloaded.pixels[outside], pixels[outside])


def test_pyramid_levels_halve_down_to_the_screen_and_refresh_exactly():
    from restorer_app.engine.regions import Box
    from restorer_app.gui.display import PYRAMID_MIN_SIDE, Pyramid, _half_mean

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (2501, 1999, 3), dtype=np.uint8)  # odd sizes on purpose
    pyramid = Pyramid(base, _half_mean)
    assert [lvl.shape[:2] for lvl in pyramid.levels] == [(1251, 1000), (626, 500)]
    assert max(pyramid.levels[-1].shape[:2]) <= PYRAMID_MIN_SIDE
    assert abs(float(pyramid.levels[0].mean()) - float(base.mean())) < 0.5
    base[1300:2501, 7:1999] = 0  # an edit reaching the odd last row and column
    pyramid.refresh(Box(7, 1300, 1999, 2501))
    rebuilt = Pyramid(base, _half_mean)
    for level, expected in zip(pyramid.levels, rebuilt.levels):
        np.testing.assert_array_equal(level, expected)


def test_level_choice_keeps_at_least_one_pixel_per_screen_pixel():
    from restorer_app.gui.display import level_index

    assert level_index(1.0, 4) == 0 and level_index(0.6, 4) == 0
    assert level_index(0.5, 4) == 1 and level_index(0.3, 4) == 1
    assert level_index(0.11, 4) == 3 and level_index(0.01, 4) == 4


def test_mask_levels_keep_a_one_pixel_scratch_visible_far_out():
    from PySide6.QtGui import QColor

    from restorer_app.engine.regions import Box
    from restorer_app.gui.display import MaskLevels

    mask = np.zeros((3000, 4000), np.uint8)
    mask[:, 2001] = 255
    levels = MaskLevels(mask, QColor(255, 0, 0))
    image, factor = levels.level_for(0.1)
    assert factor == 4 and image.width() == 1000  # the smallest level
    assert all(image.pixelIndex(500, y) != 0 for y in range(0, 750, 25))
    mask[100:140, 100:140] = 255  # a stroke, then its refresh
    levels.refresh(Box(100, 100, 140, 140))
    assert levels.level_for(0.1)[0].pixelIndex(30, 30) != 0


def test_large_photo_draws_from_a_level_and_before_is_built_only_to_compare(qtbot, window, tmp_path):
    from restorer_app.gui import display as display_module

    rng = np.random.default_rng(3)
    pixels = cv2.resize(rng.integers(0, 65535, (6, 8, 3)).astype(np.uint16), (4000, 3000))  # smooth
    source = tmp_path / "big.tif"
    import tifffile
    tifffile.imwrite(source, pixels, photometric="rgb")
    assert window.open_path(source)
    window.canvas.fit()
    factors = []
    original_level_for = display_module.DisplayBuffer.level_for

    def spy(self, scale):
        image, factor = original_level_for(self, scale)
        factors.append(factor)
        return image, factor

    display_module.DisplayBuffer.level_for = spy
    try:
        shot = window.canvas.viewport().grab().toImage()
    finally:
        display_module.DisplayBuffer.level_for = original_level_for
    assert factors and min(factors) >= 4  # ~900 px of viewport for 4000 px of photo
    # What is on screen is the photo: its centre pixel matches the photo's centre region.
    centre = window.canvas.viewportTransform().map(window.canvas.sceneRect().center()).toPoint()
    shown = shot.pixelColor(centre)
    expected = (pixels[1480:1520, 1980:2020].mean(axis=(0, 1)) / 257).round()
    assert max(abs(shown.red() - expected[0]), abs(shown.green() - expected[1]), abs(shown.blue() - expected[2])) <= 6
    originals = window.layers.displays["original"]
    assert originals._array is None  # never drawn: no 8-bit copy of the opened photo yet
    window.canvas.set_split(True)
    window.canvas.viewport().grab()
    assert originals._array is not None
