"""Files that hold more than one picture, and CMYK files: read on purpose, and said."""

import io
import itertools
import struct

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from restorer_app.cli import main
from restorer_app.engine.errors import ImageReadError, UnsupportedImageError
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import decode_image, load_image

from factories import make_mask, make_photo


def _three_page_tiff(path, big=(60, 40)):
    """A thumbnail first, the scan second, a gray page last: the layout scanners write."""
    thumbnail = Image.fromarray(make_photo(12, 16, 3, seed=1))
    scan = make_photo(big[1], big[0], 3, seed=2)
    gray = Image.fromarray(make_photo(20, 30, 1, seed=3)[:, :, 0])
    thumbnail.save(path, save_all=True, append_images=[Image.fromarray(scan), gray])
    return scan


def test_multipage_tiff_reads_the_largest_page_and_says_the_others_are_left_out(tmp_path):
    scan = _three_page_tiff(tmp_path / "scan.tif")
    image = load_image(tmp_path / "scan.tif")
    np.testing.assert_array_equal(image.pixels, scan)
    assert (image.info.page, image.info.page_count) == (2, 3)
    assert image.info.reading_record() == {"page": 2, "page_count": 3}
    (notice,) = image.info.notices
    assert notice.startswith("'scan.tif' has 3 pages; page 2 (60x40) was used; the other pages are not carried")


def test_page_option_reads_that_page_and_a_missing_page_is_a_sentence(tmp_path):
    _three_page_tiff(tmp_path / "scan.tif")
    first = load_image(tmp_path / "scan.tif", page=1)
    np.testing.assert_array_equal(first.pixels, make_photo(12, 16, 3, seed=1))
    assert "page 1 (16x12) was used" in first.info.notices[0]
    third = load_image(tmp_path / "scan.tif", page=3)
    assert third.pixels.shape == (20, 30, 1) and third.info.page == 3
    with pytest.raises(ImageReadError, match="'scan.tif' has 3 pages; there is no page 4"):
        load_image(tmp_path / "scan.tif", page=4)
    with pytest.raises(ImageReadError, match="counted from 1"):
        load_image(tmp_path / "scan.tif", page=0)


def test_single_page_files_carry_no_page_notice(tmp_path):
    Image.fromarray(make_photo(10, 10, 3)).save(tmp_path / "one.tif")
    image = load_image(tmp_path / "one.tif")
    assert image.info.notices == () and image.info.reading_record() == {}
    assert load_image(tmp_path / "one.tif", page=1).info.page_count == 1
    with pytest.raises(ImageReadError, match="has 1 page; there is no page 2"):
        load_image(tmp_path / "one.tif", page=2)


@pytest.mark.parametrize("channels", [3, 2])  # RGB goes through OpenCV, gray+alpha through tifffile
def test_sixteen_bit_multipage_tiff_reads_the_chosen_page_at_sixteen_bits(tmp_path, channels):
    small, large = make_photo(10, 12, channels, np.uint16, seed=4), make_photo(40, 60, channels, np.uint16, seed=5)
    extras = {"extrasamples": ("unassalpha",), "photometric": "minisblack"} if channels == 2 else {}
    with tifffile.TiffWriter(tmp_path / "deep.tif") as writer:
        writer.write(small, **extras)
        writer.write(large, **extras)
    image = load_image(tmp_path / "deep.tif")
    assert image.pixels.dtype == np.uint16 and image.info.page == 2
    np.testing.assert_array_equal(image.pixels, large)
    np.testing.assert_array_equal(load_image(tmp_path / "deep.tif", page=1).pixels, small)
    assert "'deep.tif' has 2 pages; page 2 (60x40)" in image.info.notices[0]


def test_camera_jpeg_with_a_preview_image_opens_as_jpeg_and_says_the_preview_is_left_out(tmp_path):
    Image.fromarray(make_photo(48, 64, 3)).save(tmp_path / "camera.jpg", "MPO", quality=100, save_all=True,
                                append_images=[Image.new("RGB", (16, 12))])
    image = load_image(tmp_path / "camera.jpg")
    assert image.info.format == "JPEG" and image.pixels.shape == (48, 64, 3)
    with Image.open(tmp_path / "camera.jpg") as reference:  # Pillow's own decode of the first image
        np.testing.assert_array_equal(image.pixels, np.asarray(reference.convert("RGB")))
    assert image.info.notices[0].startswith("'camera.jpg' has 2 images; image 1 (64x48) was used")


def test_animated_png_reads_the_first_frame_and_says_so(tmp_path):
    frames = [Image.fromarray(make_photo(20, 30, 3, seed=seed)) for seed in (7, 8, 9)]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    image = load_image(tmp_path / "anim.png")
    np.testing.assert_array_equal(image.pixels, np.asarray(frames[0]))
    assert image.info.notices[0].startswith("'anim.png' has 3 frames; frame 1 (30x20) was used")


def test_cli_fills_the_largest_page_checks_the_mask_against_it_and_notes_it(tmp_path):
    scan = _three_page_tiff(tmp_path / "scan.tif")
    Image.fromarray(make_mask(40, 60)).save(tmp_path / "mask.png")
    out, err = io.StringIO(), io.StringIO()
    code = main(["inpaint", str(tmp_path / "scan.tif"), "--mask", str(tmp_path / "mask.png"),
                 "-o", str(tmp_path / "out.tif"), "--method", "telea"], out, err)
    assert code == 0, err.getvalue()
    assert "restorer: note: 'scan.tif' has 3 pages; page 2 (60x40) was used" in err.getvalue()
    assert "Choose another with --page N." in err.getvalue()  # the CLI's way; the GUI's notice has no flag
    result = np.asarray(Image.open(tmp_path / "out.tif"))
    keep = make_mask(40, 60) == 0
    np.testing.assert_array_equal(result[keep], scan[keep])

    err = io.StringIO()
    code = main(["inpaint", str(tmp_path / "scan.tif"), "--mask", str(tmp_path / "mask.png"), "--page", "1",
                 "-o", str(tmp_path / "first.tif"), "--method", "telea"], io.StringIO(), err)
    assert code == 1 and "is 60x40 but the photo is 16x12" in err.getvalue()


# --------------------------------------------------------------------------- CMYK

def _lut_text(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 78


def cmyk_profile(description: str, ink_to_rgb, grid: int = 5) -> bytes:
    """A small ICC v2 CMYK output profile, built here so that no profile file is shipped:
    its A2B0 table maps ink amounts (C, M, Y, K in [0, 1]) to what ``ink_to_rgb`` says,
    through D50 Lab."""
    steps = np.linspace(0.0, 1.0, grid)
    inks = np.array(list(itertools.product(steps, repeat=4)))  # the first ink varies slowest, as ICC orders it
    rgb = np.clip(np.round(ink_to_rgb(*inks.T) * 255), 0, 255).astype(np.uint8)
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
    lab = np.asarray(ImageCms.applyTransform(Image.fromarray(rgb[None], "RGB"), to_lab)).reshape(-1, 3).copy()
    lab[:, 1:] = (lab[:, 1:].view(np.int8).astype(np.int16) + 128).astype(np.uint8)  # Pillow's a, b are signed
    identity = bytes(range(256))
    matrix = b"".join(struct.pack(">i", 0x10000 if row == col else 0) for row in range(3) for col in range(3))
    a2b0 = b"mft1\0\0\0\0" + bytes([4, 3, grid, 0]) + matrix + identity * 4 + lab.tobytes() + identity * 3
    d50 = struct.pack(">iii", int(0.9642 * 65536), 65536, int(0.8249 * 65536))
    tags = [(b"desc", _lut_text(description)), (b"wtpt", b"XYZ \0\0\0\0" + d50),
            (b"cprt", b"text\0\0\0\0none\0"), (b"A2B0", a2b0)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    header = (struct.pack(">I", offset + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"prtrCMYKLab "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + d50 + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + body


def _swapped_inks(c, m, y, k):
    """A printing process where cyan ink looks yellow and yellow ink cyan: nothing the
    profile-less formula would give, so the result shows which path converted it."""
    return np.stack([(1 - y) * (1 - k), (1 - m) * (1 - k), (1 - c) * (1 - k)], axis=1)


PATCHES = np.zeros((8, 40, 4), np.uint8)  # paper, cyan, magenta, yellow, black
for _number in range(4):
    PATCHES[:, 8 * (_number + 1): 8 * (_number + 2), _number] = 255


def _cmyk_file(fmt, icc=None):
    buffer = io.BytesIO()
    options = {"quality": 100} if fmt == "JPEG" else {}
    Image.fromarray(PATCHES, "CMYK").save(buffer, fmt, **options, **({"icc_profile": icc} if icc else {}))
    return buffer.getvalue()


def _colour_space(icc: bytes) -> str:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space.strip()


def test_pillow_writes_cmyk_jpeg_inverted_with_the_adobe_marker():
    # The case the reader must undo: Adobe-convention JPEGs store 255 - ink.
    data = _cmyk_file("JPEG")
    assert b"Adobe" in data[:200] and "adobe" in Image.open(io.BytesIO(data)).info


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_with_an_embedded_profile_is_converted_through_it(fmt):
    icc = cmyk_profile("Swapped Inks Test v1", _swapped_inks)
    image = decode_image(_cmyk_file(fmt, icc), name=f"print.{fmt.lower()}")
    patches = image.pixels[4, 4::8].astype(int)
    expected = np.array([[255, 255, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255], [0, 0, 0]])
    assert np.abs(patches - expected).max() <= 12, patches
    assert image.pixels.shape == (8, 40, 3) and image.info.bit_depth == 8
    assert _colour_space(image.info.icc_profile) == "RGB"  # the profile describes the new pixels
    (notice,) = image.info.notices
    assert notice.startswith(f"'print.{fmt.lower()}' is CMYK; it was converted to RGB through its embedded "
                             "profile 'Swapped Inks Test v1'")
    assert "'Swapped Inks Test v1'" in image.info.colour_conversion
    assert image.info.reading_record() == {"colour_conversion": image.info.colour_conversion}


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_without_a_profile_uses_the_simple_formula_and_says_so(fmt):
    image = decode_image(_cmyk_file(fmt), name="flyer")
    patches = image.pixels[4, 4::8].astype(int)
    expected = np.array([[255, 255, 255], [0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 0, 0]])
    assert np.abs(patches - expected).max() <= 3, patches
    assert _colour_space(image.info.icc_profile) == "RGB"
    (notice,) = image.info.notices
    assert "'flyer' is CMYK" in notice and "embeds no colour profile" in notice and "approximate" in notice
    assert "simple formula" in image.info.colour_conversion


def test_cmyk_with_a_damaged_profile_falls_back_and_says_why():
    image = decode_image(_cmyk_file("TIFF", b"not a profile" * 20), name="bad.tif")
    assert image.pixels[4, 12].tolist() == [0, 255, 255]
    assert "embedded profile cannot be used" in image.info.notices[0]


def test_converted_cmyk_saves_as_rgb_with_the_srgb_profile(tmp_path):
    icc = cmyk_profile("Swapped Inks Test v1", _swapped_inks)
    (tmp_path / "print.jpg").write_bytes(_cmyk_file("JPEG", icc))
    image = load_image(tmp_path / "print.jpg")
    for name in ("out.tif", "out.png", "out.jpg"):
        back = load_image(save_image(image, tmp_path / name, jpeg_quality=100))
        assert _colour_space(back.info.icc_profile) == "RGB", name
        assert back.pixels.shape == (8, 40, 3) and not back.info.notices
        assert np.abs(back.pixels.astype(int) - image.pixels).max() <= (0 if name != "out.jpg" else 8)


def test_sixteen_bit_and_extra_channel_cmyk_are_refused_with_a_sentence(tmp_path):
    tifffile.imwrite(tmp_path / "deep.tif", PATCHES.astype(np.uint16) * 257, photometric="separated")
    with pytest.raises(UnsupportedImageError, match="'deep.tif' is a 16-bit CMYK image"):
        load_image(tmp_path / "deep.tif")
    tifffile.imwrite(tmp_path / "alpha.tif", np.zeros((4, 4, 5), np.uint8), photometric="separated",
                     planarconfig="contig", extrasamples=("unassalpha",))
    with pytest.raises(UnsupportedImageError, match="'alpha.tif' is a CMYK image with extra channels"):
        load_image(tmp_path / "alpha.tif")


def test_cli_converts_cmyk_and_notes_it(tmp_path):
    (tmp_path / "print.jpg").write_bytes(_cmyk_file("JPEG"))
    mask = np.zeros((8, 40), np.uint8)
    mask[2:5, 2:5] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    err = io.StringIO()
    code = main(["inpaint", str(tmp_path / "print.jpg"), "--mask", str(tmp_path / "mask.png"),
                 "-o", str(tmp_path / "out.png"), "--method", "telea"], io.StringIO(), err)
    assert code == 0, err.getvalue()
    assert "restorer: note: 'print.jpg' is CMYK; it was converted to RGB" in err.getvalue()
    assert _colour_space(load_image(tmp_path / "out.png").info.icc_profile) == "RGB"



def test_the_xmp_of_a_converted_cmyk_file_no_longer_says_cmyk(tmp_path):
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
           b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           b'photoshop:ColorMode="4" photoshop:ICCProfile="U.S. Web Coated (SWOP) v2">'
           b'<tiff:PhotometricInterpretation>5</tiff:PhotometricInterpretation><dc:format>image/jpeg</dc:format>'
           b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    buffer = io.BytesIO()
    Image.fromarray(PATCHES, "CMYK").save(buffer, "JPEG", quality=100, xmp=xmp)
    (tmp_path / "print.jpg").write_bytes(buffer.getvalue())
    image = load_image(tmp_path / "print.jpg")
    packet = load_image(save_image(image, tmp_path / "out.tif")).info.xmp.decode()
    assert 'photoshop:ColorMode="3"' in packet and 'photoshop:ICCProfile="sRGB built-in"' in packet
    assert "<tiff:PhotometricInterpretation>2</tiff:PhotometricInterpretation>" in packet
    assert "<dc:format>image/jpeg</dc:format>" in packet  # everything else is kept
