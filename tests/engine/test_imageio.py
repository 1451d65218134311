import io
import os

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from restorer_app.engine.errors import (
    ImageReadError,
    ImageTooLargeError,
    ImageWriteError,
    UnsupportedImageError,
)
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import ImageInfo, RasterImage, apply_orientation, load_image

from factories import make_photo

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _image(pixels, fmt="PNG", icc=SRGB, dpi=(300.0, 300.0)):
    return RasterImage(pixels, ImageInfo(fmt, 16 if pixels.dtype == np.uint16 else 8, icc_profile=icc, dpi=dpi))


LOSSLESS = [".png", ".tif", ".bmp", ".webp"]


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("ext", LOSSLESS)
def test_eight_bit_lossless_round_trip(tmp_path, ext, channels):
    pixels = make_photo(37, 53, channels)
    if ext == ".webp" and channels == 1:
        pytest.skip("WebP stores no gray images")
    if ext == ".bmp" and channels == 4:
        pytest.skip("BMP alpha is not read back by Pillow")
    path = save_image(_image(pixels, icc=None if ext == ".bmp" else SRGB), tmp_path / f"x{ext}")
    back = load_image(path)
    assert back.pixels.dtype == np.uint8
    assert back.info.bit_depth == 8
    np.testing.assert_array_equal(back.pixels, pixels)
    if ext != ".bmp":
        assert back.info.icc_profile == SRGB


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_sixteen_bit_round_trip_keeps_precision_and_profile(tmp_path, ext, channels):
    pixels = make_photo(41, 29, channels, np.uint16)
    back = load_image(save_image(_image(pixels), tmp_path / f"x{ext}"))
    assert back.info.bit_depth == 16 and back.pixels.dtype == np.uint16
    assert back.info.icc_profile == SRGB
    assert back.info.dpi is not None and abs(back.info.dpi[0] - 300) < 0.01
    if ext == ".png" and channels == 2:  # 16-bit gray+alpha PNG is written as RGBA
        np.testing.assert_array_equal(back.pixels[:, :, 0], pixels[:, :, 0])
        np.testing.assert_array_equal(back.pixels[:, :, 3], pixels[:, :, 1])
    else:
        np.testing.assert_array_equal(back.pixels, pixels)


def test_jpeg_read_and_sixteen_bit_to_jpeg_is_nearest_eight_bit(tmp_path):
    pixels = make_photo(64, 64, 3, np.uint16)
    back = load_image(save_image(_image(pixels), tmp_path / "x.jpg", jpeg_quality=100))
    assert back.pixels.dtype == np.uint8 and back.info.format == "JPEG"
    assert np.abs(back.pixels.astype(int) - pixels.astype(int) // 257).mean() < 2.0
    assert back.info.icc_profile == SRGB


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    stored = make_photo(20, 30, 3)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    Image.fromarray(stored).save(path, exif=exif.tobytes(), quality=100)
    with Image.open(path) as reference:  # Pillow's own transpose is the independent reference
        upright = np.asarray(ImageOps.exif_transpose(reference))
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, upright)
    np.testing.assert_array_equal(apply_orientation(np.asarray(Image.open(path)), orientation), upright)
    if orientation != 1:  # saved copies must not be rotated a second time by viewers
        resaved = load_image(save_image(loaded, tmp_path / "r.png"))
        np.testing.assert_array_equal(resaved.pixels, upright)


def test_palette_and_bilevel_images_open_as_rgb_and_gray(tmp_path):
    Image.fromarray(make_photo(10, 10, 3)).convert("P").save(tmp_path / "p.png")
    Image.fromarray(make_photo(10, 10, 1)[:, :, 0]).convert("1").save(tmp_path / "b.png")
    assert load_image(tmp_path / "p.png").pixels.shape == (10, 10, 3)
    assert load_image(tmp_path / "b.png").pixels.shape == (10, 10, 1)


def _jpeg_bytes():
    buffer = io.BytesIO()
    Image.fromarray(make_photo(200, 200, 3)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, error, words",
    [
        (b"", ImageReadError, "empty"),
        (b"this is not an image at all" * 10, UnsupportedImageError, "not an image"),
        (_jpeg_bytes()[:600], ImageReadError, "truncated"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, (ImageReadError, UnsupportedImageError), ""),
        (b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;", (ImageReadError, UnsupportedImageError), ""),
    ],
)
def test_corrupt_inputs_raise_typed_errors_with_a_sentence(tmp_path, content, error, words):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        load_image(path)
    message = str(info.value)
    assert "bad.jpg" in message and message.endswith(".")
    assert words in message


def test_truncated_sixteen_bit_png_is_reported(tmp_path):
    path = save_image(_image(make_photo(80, 80, 3, np.uint16)), tmp_path / "t.png")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ImageReadError, match="truncated"):
        load_image(path)


def test_gif_is_unsupported(tmp_path):
    Image.fromarray(make_photo(8, 8, 3)).save(tmp_path / "a.gif")
    with pytest.raises(UnsupportedImageError, match="GIF"):
        load_image(tmp_path / "a.gif")


def test_missing_and_folder_paths(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="folder"):
        load_image(tmp_path)


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (400, 300)).save(path)
    with pytest.raises(ImageTooLargeError, match="0 MP|MP"):
        load_image(path, max_pixels=100_000)
    assert load_image(path, max_pixels=120_000).pixels.shape == (300, 400, 3)


def test_save_refuses_the_original_and_leaves_it_untouched(tmp_path):
    original = tmp_path / "scan.png"
    Image.fromarray(make_photo(16, 16, 3)).save(original)
    before = original.read_bytes()
    image = load_image(original)
    image.pixels[:] = 0
    with pytest.raises(ImageWriteError, match="original"):
        save_image(image, original)
    with pytest.raises(ImageWriteError, match="original"):
        save_image(image, tmp_path / "." / "scan.png")
    assert original.read_bytes() == before


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    image = _image(make_photo(16, 16, 3))
    target = tmp_path / "out.png"
    target.write_bytes(b"previous version")

    def broken_encoder(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_encoder)
    with pytest.raises(ImageWriteError, match="No space"):
        save_image(image, target)
    assert target.read_bytes() == b"previous version"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_unknown_output_extension_is_refused(tmp_path):
    with pytest.raises(UnsupportedImageError, match=".xyz"):
        save_image(_image(make_photo(8, 8, 3)), tmp_path / "out.xyz")
    assert not os.listdir(tmp_path)


def test_pixel_limit_can_be_set_by_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("RGB", (400, 300)).save(path)
    monkeypatch.setenv("RESTORER_MAX_MEGAPIXELS", "0.1")
    with pytest.raises(ImageTooLargeError, match="RESTORER_MAX_MEGAPIXELS"):
        load_image(path)
    monkeypatch.setenv("RESTORER_MAX_MEGAPIXELS", "0.2")
    assert load_image(path).pixels.shape == (300, 400, 3)
