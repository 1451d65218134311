"""Reading photographs without losing what makes them the user's file.

Pixels are numpy arrays H x W x C (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) in the file's
own precision (uint8 or uint16). The file's colour profile, EXIF (minus orientation,
which is applied to the pixels), resolution and PNG text travel beside them in
:class:`ImageInfo` so that a save (``image_write``) can give them back. The pieces of
decoding are in ``image_decode`` and ``cmyk``.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .cmyk import decode_cmyk, xmp_now_rgb
from .errors import ImageReadError, ImageTooLargeError, RestorerError, UnsupportedImageError
from .image_decode import (ORIENTATION_TAG, choose_page, count_of, decode_eight_bit, decode_sixteen_bit,
                           exif_without_orientation, failure_reason, is_sixteen_bit, pages_notice, read_dpi,
                           read_exif, read_png_text, read_xmp)
from .image_formats import (MAX_PAGES, MAX_PIXELS_VARIABLE, SUPPORTED_FORMATS, check_pixel_limit,
                            default_max_pixels, max_file_bytes)

# Restorer enforces its own pixel limit (``max_pixels``) before decoding; Pillow's global
# decompression-bomb guard (179 MP) would otherwise refuse legitimate large scans.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class ImageInfo:
    """What a file carries besides its pixels."""

    format: str
    bit_depth: int
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    text: dict[str, str] = field(default_factory=dict)
    #: The XMP packet (UTF-8 XML), carried through and extended on export.
    xmp: bytes | None = None
    #: The page (or animation frame) that was read, counted from 1, and how many the file has.
    page: int = 1
    page_count: int = 1
    #: How the file's colours were turned into these pixels (CMYK to sRGB), or None.
    colour_conversion: str | None = None
    #: Sentences for the user about how the file was read (pages left out, colours converted).
    notices: tuple[str, ...] = ()
    #: sha256 of the bytes these pixels were decoded from (records name the source by it;
    #: hashing the path again later could see another file, or an emptied pipe).
    source_sha256: str | None = None

    def reading_record(self) -> dict[str, object]:
        """What a provenance record should say about how the source was read (empty when
        the file was read as it is)."""
        record: dict[str, object] = {}
        if self.page_count > 1:
            record.update(page=self.page, page_count=self.page_count)
        if self.colour_conversion:
            record["colour_conversion"] = self.colour_conversion
        return record


@dataclass
class RasterImage:
    """Pixels plus the metadata needed to write them back faithfully."""

    pixels: np.ndarray
    info: ImageInfo
    path: Path | None = None

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] in (2, 4)

    def with_pixels(self, pixels: np.ndarray) -> "RasterImage":
        """A copy holding other pixels of the same shape and dtype, same metadata."""
        if pixels.shape != self.pixels.shape or pixels.dtype != self.pixels.dtype:
            raise ValueError("with_pixels needs an array of the same shape and dtype")
        return RasterImage(pixels, self.info, self.path)


def load_image(path: str | os.PathLike, *, max_pixels: int | None = None, page: int | None = None) -> RasterImage:
    """Read a photograph with EXIF orientation applied.

    ``page`` (from 1) picks a page of a multi-page TIFF or a frame of an animation; by
    default the largest page is read. Pages left out and CMYK converted to RGB are said in
    ``info.notices``. Raises :class:`ImageReadError`, :class:`UnsupportedImageError` or
    :class:`ImageTooLargeError` with a sentence naming the file.
    """
    path = Path(path)
    data = _read_bytes(path, max_file_bytes(max_pixels if max_pixels is not None else default_max_pixels()))
    image = decode_image(data, name=path.name, max_pixels=max_pixels, page=page)
    image.info = replace(image.info, source_sha256=hashlib.sha256(data).hexdigest())
    image.path = path
    return image


def decode_image(data: bytes, *, name: str = "image", max_pixels: int | None = None,
                 page: int | None = None) -> RasterImage:
    """Decode an in-memory image file (see :func:`load_image`); ``max_pixels`` defaults to
    :func:`default_max_pixels`."""
    if max_pixels is None:
        max_pixels = default_max_pixels()
    if page is not None and page < 1:
        raise ImageReadError(f"There is no page {page} in '{name}'; pages are counted from 1.")
    if not data:
        raise ImageReadError(f"'{name}' is empty (0 bytes).")
    try:
        pil = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _decode_tiff_fallback(data, name, max_pixels, page)
        raise UnsupportedImageError(
            f"'{name}' is not an image Restorer can open (supported: JPEG, PNG, TIFF, BMP, WebP)."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"'{name}' could not be read: {failure_reason(exc)}.") from None
    with pil:
        # Cameras write JPEGs with a preview or a second view appended (CIPA multi-picture
        # format); Pillow names them MPO, but the first image is an ordinary JPEG photo.
        fmt = "JPEG" if pil.format == "MPO" else pil.format
        if fmt not in SUPPORTED_FORMATS:
            raise UnsupportedImageError(
                f"'{name}' is a {pil.format} file; Restorer opens JPEG, PNG, TIFF, BMP and WebP."
            )
        index, count = choose_page(pil, name, page)
        check_pixel_limit(name, *pil.size, max_pixels)
        notices = [pages_notice(name, pil.format, index, count, pil.size)] if count > 1 else []
        sixteen = is_sixteen_bit(pil)  # before anything that may decode the pixels
        exif = read_exif(pil)
        orientation = int(exif.get(ORIENTATION_TAG, 1) or 1)
        icc_profile, conversion = pil.info.get("icc_profile") or None, None
        if pil.mode == "CMYK":
            pixels, icc_profile, conversion, notice = decode_cmyk(pil, name, sixteen)
            notices.append(notice)
            sixteen = False
        elif sixteen:
            if index and pil.format != "TIFF":
                raise UnsupportedImageError(
                    f"'{name}' is a 16-bit animation; Restorer reads only its first frame at 16 bits.")
            pixels = decode_sixteen_bit(data, name, index)
        else:
            pixels = decode_eight_bit(pil, name)
        text = read_png_text(pil)
        xmp = read_xmp(pil, text)
        if conversion and xmp:
            xmp = xmp_now_rgb(xmp)
        info = ImageInfo(
            format=fmt,
            bit_depth=16 if sixteen else 8,
            icc_profile=icc_profile,
            exif=exif_without_orientation(exif, fmt),
            dpi=read_dpi(pil),
            text=text,
            xmp=xmp,
            page=index + 1,
            page_count=count,
            colour_conversion=conversion,
            notices=tuple(notices),
        )
    pixels = apply_orientation(pixels, orientation)
    return RasterImage(np.ascontiguousarray(pixels), info)


def _decode_tiff_fallback(data: bytes, name: str, max_pixels: int, page: int | None) -> RasterImage:
    """TIFF layouts Pillow cannot open (16-bit gray+alpha): tifffile for tags and pixels."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            pages = tif.pages
            count = len(pages)
            if count > MAX_PAGES:
                raise UnsupportedImageError(f"'{name}' has {count} pages; Restorer opens files of at most {MAX_PAGES}.")
            if page is not None and page > count:
                raise ImageReadError(f"'{name}' has {count_of(count, 'TIFF')}; there is no page {page}.")
            if page is None:
                areas = [pages[number].imagelength * pages[number].imagewidth for number in range(count)]
                index = areas.index(max(areas))
            else:
                index = page - 1
            page = pages[index]
            height, width = page.imagelength, page.imagewidth
            photometric = int(page.photometric)
            bits = int(page.bitspersample)
            icc_tag = page.tags.get(34675)
            icc = bytes(icc_tag.value) if icc_tag is not None else None
            xmp_tag = page.tags.get(700)
            xmp = bytes(xmp_tag.value) if xmp_tag is not None else None
            dpi = None
            x_res, y_res = page.tags.get(282), page.tags.get(283)
            if x_res is not None and y_res is not None and page.tags.get(296, None) is not None:
                unit = int(page.tags[296].value)
                to_inch = {2: 1.0, 3: 2.54}.get(unit)
                if to_inch:
                    dpi = tuple(float(v.value[0]) / float(v.value[1]) * to_inch for v in (x_res, y_res))
    except RestorerError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged headers
        raise ImageReadError(f"'{name}' could not be read as TIFF: {exc}.") from None
    check_pixel_limit(name, width, height, max_pixels)
    if bits not in (8, 16):
        raise UnsupportedImageError(f"'{name}' has {bits}-bit samples; Restorer handles 8- and 16-bit images.")
    if photometric not in (1, 2):  # BlackIsZero gray, RGB: anything else would be read as if it were
        kind = "a CMYK image with extra channels" if photometric == 5 else f"colour type {photometric}"
        raise UnsupportedImageError(f"'{name}' is {kind}, which Restorer cannot convert; save it as RGB or gray.")
    try:
        pixels = tifffile.imread(io.BytesIO(data), key=index)
    except Exception as exc:  # e.g. a compression tifffile cannot decode without imagecodecs
        raise ImageReadError(f"'{name}' could not be decoded: {exc}.") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] > 4 or pixels.dtype not in (np.uint8, np.uint16):
        raise UnsupportedImageError(f"'{name}' has a TIFF layout Restorer does not handle.")
    notices = (pages_notice(name, "TIFF", index, count, (width, height)),) if count > 1 else ()
    info = ImageInfo(format="TIFF", bit_depth=bits, icc_profile=icc, dpi=dpi, xmp=xmp, page=index + 1,
                     page_count=count, notices=notices)
    return RasterImage(np.ascontiguousarray(pixels), info)


def _read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes. Devices (``/dev/zero``, a tape, a disk) are refused; pipes are read
    up to ``limit``, so endless input cannot exhaust memory."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise ImageReadError(f"'{path}' is a device, not an image file.")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ImageTooLargeError(f"'{path}' is larger than {limit / 2**30:.1f} GiB, more than any image within the "
                                     f"pixel limit can be; raise the limit with --max-megapixels or the "
                                     f"{MAX_PIXELS_VARIABLE} environment variable if you trust it.")
        return data
    except FileNotFoundError:
        raise ImageReadError(f"'{path}' does not exist.") from None
    except IsADirectoryError:
        raise ImageReadError(f"'{path}' is a folder, not an image file.") from None
    except PermissionError:
        raise ImageReadError(f"Restorer is not allowed to read '{path}'.") from None
    except OSError as exc:
        raise ImageReadError(f"'{path}' could not be read: {exc.strerror or exc}.") from None


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels stored with EXIF orientation 1..8 into their upright view."""
    ops = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: a.transpose(1, 0, 2)[:, ::-1],
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: a.transpose(1, 0, 2)[::-1, :],
    }
    return ops.get(orientation, ops[1])(pixels)
