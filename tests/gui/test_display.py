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
