"""Reading and writing photographs without losing what makes them the user's file.

Pixels are numpy arrays H x W x C (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) in the file's
own precision (uint8 or uint16). The file's colour profile, EXIF (minus orientation,
which is applied to the pixels), resolution and PNG text travel beside them in
:class:`ImageInfo` so that a save can give them back.

Pillow reads headers, metadata and 8-bit pixels (it detects truncated files reliably);
OpenCV decodes 16-bit PNG/TIFF, which Pillow would truncate to 8 bits; tifffile writes
16-bit TIFF with its ICC profile. Every write goes to a temporary file that is renamed
over the target, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import stat
import struct
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageReadError, ImageTooLargeError, ImageWriteError, RestorerError, UnsupportedImageError

# Restorer enforces its own pixel limit (``max_pixels``) before decoding; Pillow's global
# decompression-bomb guard (179 MP) would otherwise refuse legitimate large scans.
Image.MAX_IMAGE_PIXELS = None

DEFAULT_MAX_PIXELS = 300_000_000
#: More pages than a scan ever has; walking a crafted file's page chain stops here.
MAX_PAGES = 10_000
MAX_PIXELS_VARIABLE = "RESTORER_MAX_MEGAPIXELS"


def default_max_pixels() -> int:
    """The pixel limit: ``RESTORER_MAX_MEGAPIXELS`` if set to a number, else 300 MP."""
    try:
        return int(float(os.environ[MAX_PIXELS_VARIABLE]) * 1e6)
    except (KeyError, ValueError):
        return DEFAULT_MAX_PIXELS

#: Formats Restorer reads and writes, keyed by Pillow's format name.
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")
_EXTENSIONS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".webp": "WEBP",
}
#: Formats that can hold 16 bits per channel.
_SIXTEEN_BIT_FORMATS = ("PNG", "TIFF")
_ORIENTATION_TAG = 0x0112
#: Text key under which the retouching history is embedded (see provenance.embedded_tags).
HISTORY_KEY = "Restorer history"
#: The PNG iTXt keyword under which XMP lives (XMP specification part 3).
XMP_PNG_KEY = "XML:com.adobe.xmp"


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


def format_for_path(path: str | os.PathLike) -> str:
    """The format a file name asks for, from its extension."""
    suffix = Path(path).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(sorted(_EXTENSIONS))
        raise UnsupportedImageError(
            f"Restorer cannot write '{suffix or 'no extension'}' files; use one of {known}."
        ) from None


def image_file_filter() -> str:
    """Extensions Restorer opens, as glob patterns (for dialogs and folder scans)."""
    return " ".join(f"*{ext}" for ext in _EXTENSIONS)


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in _EXTENSIONS


# --------------------------------------------------------------------------- reading


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
        raise ImageReadError(f"'{name}' could not be read: {_reason(exc)}.") from None
    with pil:
        # Cameras write JPEGs with a preview or a second view appended (CIPA multi-picture
        # format); Pillow names them MPO, but the first image is an ordinary JPEG photo.
        fmt = "JPEG" if pil.format == "MPO" else pil.format
        if fmt not in SUPPORTED_FORMATS:
            raise UnsupportedImageError(
                f"'{name}' is a {pil.format} file; Restorer opens JPEG, PNG, TIFF, BMP and WebP."
            )
        index, count = _choose_page(pil, name, page)
        _check_pixel_limit(name, *pil.size, max_pixels)
        notices = [_pages_notice(name, pil.format, index, count, pil.size)] if count > 1 else []
        sixteen = _is_sixteen_bit(pil)  # before anything that may decode the pixels
        exif = _read_exif(pil)
        orientation = int(exif.get(_ORIENTATION_TAG, 1) or 1)
        icc_profile, conversion = pil.info.get("icc_profile") or None, None
        if pil.mode == "CMYK":
            pixels, icc_profile, conversion, notice = _decode_cmyk(pil, name, sixteen)
            notices.append(notice)
            sixteen = False
        elif sixteen:
            if index and pil.format != "TIFF":
                raise UnsupportedImageError(
                    f"'{name}' is a 16-bit animation; Restorer reads only its first frame at 16 bits.")
            pixels = _decode_sixteen_bit(data, name, index)
        else:
            pixels = _decode_eight_bit(pil, name)
        text = _png_text(pil)
        xmp = _read_xmp(pil, text)
        if conversion and xmp:
            xmp = _xmp_now_rgb(xmp)
        info = ImageInfo(
            format=fmt,
            bit_depth=16 if sixteen else 8,
            icc_profile=icc_profile,
            exif=_exif_without_orientation(exif, fmt),
            dpi=_dpi(pil),
            text=text,
            xmp=xmp,
            page=index + 1,
            page_count=count,
            colour_conversion=conversion,
            notices=tuple(notices),
        )
    pixels = apply_orientation(pixels, orientation)
    return RasterImage(np.ascontiguousarray(pixels), info)


def _check_pixel_limit(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"'{name}' is {width}x{height} ({width * height / 1e6:.0f} MP), more than the "
            f"limit of {max_pixels / 1e6:.0f} MP; if you trust this file, raise the limit with "
            f"--max-megapixels or the {MAX_PIXELS_VARIABLE} environment variable."
        )
    if width == 0 or height == 0:
        raise ImageReadError(f"'{name}' has no pixels.")


def _choose_page(pil: Image.Image, name: str, page: int | None) -> tuple[int, int]:
    """Seek ``pil`` to the requested page (from 1), or else to its largest; return the
    page's index and the file's page count."""
    try:
        count = int(getattr(pil, "n_frames", 1) or 1)
        if count > MAX_PAGES:
            raise UnsupportedImageError(f"'{name}' has {count} pages; Restorer opens files of at most {MAX_PAGES}.")
        if page is not None:
            if page > count:
                raise ImageReadError(f"'{name}' has {_count_of(count, pil.format)}; there is no page {page}.")
            index = page - 1
        elif count > 1 and pil.format == "TIFF":  # a thumbnail or preview often comes first
            areas = []
            for number in range(count):
                pil.seek(number)
                areas.append(pil.size[0] * pil.size[1])
            index = areas.index(max(areas))
        else:  # every frame of an animation has the canvas's size
            index = 0
        pil.seek(index)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"'{name}' could not be read: {_reason(exc)}.") from None
    return index, count


_PAGE_UNITS = {"TIFF": "page", "MPO": "image"}  # animated PNG and WebP have frames


def _count_of(count: int, fmt: str | None) -> str:
    unit = _PAGE_UNITS.get(fmt or "", "frame")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def _pages_notice(name: str, fmt: str | None, index: int, count: int, size: tuple[int, int]) -> str:
    unit = _PAGE_UNITS.get(fmt or "", "frame")
    return (f"'{name}' has {_count_of(count, fmt)}; {unit} {index + 1} ({size[0]}x{size[1]}) was used; "
            f"the other {unit}s are not carried into the output.")


#: Pillow's conversion without a profile, said in the notice so the user knows what was done.
_NAIVE_CMYK = "with the simple formula R = 255 (1 - C)(1 - K), likewise G from M and B from Y"


def _decode_cmyk(pil: Image.Image, name: str, sixteen: bool) -> tuple[np.ndarray, bytes, str, str]:
    """CMYK pixels as 8-bit RGB through the file's profile (or the naive formula when it has
    none), with the sRGB profile that now describes them, the conversion and its notice."""
    if sixteen:
        raise UnsupportedImageError(
            f"'{name}' is a 16-bit CMYK image; Restorer converts only 8-bit CMYK to RGB, so convert "
            "it to 16-bit RGB in a colour-managed editor first."
        )
    tags = getattr(pil, "tag_v2", {})
    samples, inks = tags.get(277, 4), tags.get(332, 1)  # SamplesPerPixel, InkSet
    if samples != 4 or inks != 1:
        raise UnsupportedImageError(
            f"'{name}' has {'extra channels (alpha or spot colours) besides' if samples != 4 else 'inks other than'} "
            "cyan, magenta, yellow and black; Restorer converts only plain CMYK images to RGB."
        )
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    embedded = pil.info.get("icc_profile")
    try:
        pil.load()
        rgb, how = None, ""
        if embedded:
            try:
                profile = ImageCms.ImageCmsProfile(io.BytesIO(embedded))
                label = " ".join(ImageCms.getProfileDescription(profile).split())[:80] or "unnamed"
                if profile.profile.xcolor_space.strip() != "CMYK":
                    raise ImageCms.PyCMSError("it describes another colour space")
                # Relative colorimetric with black point compensation, as print workflows
                # preview CMYK on screen: shadows keep their detail, paper white becomes white.
                transform = ImageCms.buildTransform(
                    profile, srgb, "CMYK", "RGB", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                    flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
                rgb = ImageCms.applyTransform(pil, transform)
                how = f"through its embedded profile '{label}' (relative colorimetric, black point compensation)"
            except (ImageCms.PyCMSError, OSError, ValueError) as exc:  # a damaged or foreign profile
                how = f"{_NAIVE_CMYK}, because its embedded profile cannot be used ({_reason(exc)})"
        else:
            how = f"{_NAIVE_CMYK}, because it embeds no colour profile and Restorer bundles no standard CMYK profile"
        rgb_is_naive = rgb is None
        if rgb_is_naive:
            rgb = pil.convert("RGB")
        pixels = np.array(rgb)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"'{name}' could not be decoded: {_reason(exc)}.") from None
    conversion = f"CMYK converted to sRGB {how}"
    approximate = " Its colours are approximate." if rgb_is_naive else ""
    notice = f"'{name}' is CMYK; it was converted to RGB {how}.{approximate} The output is RGB with an sRGB profile."
    return pixels.astype(np.uint8, copy=False), srgb.tobytes(), conversion, notice


#: What a CMYK file's XMP says about its colours, and what it must say of the RGB pixels
#: (Photoshop's colour mode 3 = RGB; TIFF photometric 2 = RGB, 3 samples).
_XMP_COLOUR_FACTS = {"photoshop:ColorMode": "3", "photoshop:ICCProfile": "sRGB built-in",
                     "tiff:PhotometricInterpretation": "2", "tiff:SamplesPerPixel": "3"}


def _xmp_now_rgb(xmp: bytes) -> bytes:
    """The source's XMP with its colour facts rewritten for the converted RGB pixels, in
    attribute or element form, so the output never claims to be CMYK."""
    import re

    text = xmp.decode("utf-8", "replace")
    for key, value in _XMP_COLOUR_FACTS.items():
        for quote in "\"'":
            text = re.sub(rf"({re.escape(key)}\s*=\s*{quote})[^{quote}]*{quote}", rf"\g<1>{value}{quote}", text)
        text = re.sub(rf"(<{re.escape(key)}>)[^<]*(</{re.escape(key)}>)", rf"\g<1>{value}\g<2>", text)
    return text.encode("utf-8")


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
                raise ImageReadError(f"'{name}' has {_count_of(count, 'TIFF')}; there is no page {page}.")
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
    _check_pixel_limit(name, width, height, max_pixels)
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
    notices = (_pages_notice(name, "TIFF", index, count, (width, height)),) if count > 1 else ()
    info = ImageInfo(format="TIFF", bit_depth=bits, icc_profile=icc, dpi=dpi, xmp=xmp, page=index + 1,
                     page_count=count, notices=notices)
    return RasterImage(np.ascontiguousarray(pixels), info)


def max_file_bytes(max_pixels: int) -> int:
    """The largest file worth reading for an image of at most ``max_pixels``: uncompressed
    16-bit RGBA with room for previews and metadata. Larger input is not a photo we can open."""
    return max_pixels * 8 + (256 << 20)


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


def _is_sixteen_bit(pil: Image.Image) -> bool:
    if pil.mode.startswith("I;16") or pil.mode == "I":
        return True
    # Pillow opens 48/64-bit RGB(A) PNG and TIFF as 8-bit modes; the raw mode tells the truth.
    for tile in getattr(pil, "tile", []) or []:
        args = tile.args if hasattr(tile, "args") else tile[3]
        rawmode = args[0] if isinstance(args, tuple) else args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _read_exif(pil: Image.Image) -> Image.Exif:
    # PNG's getexif() decodes the whole image to look for a trailing eXIf chunk; a chunk
    # before the pixel data (where writers put it) is already in ``info``.
    if pil.format == "PNG":
        exif = Image.Exif()
        if pil.info.get("exif"):
            exif.load(pil.info["exif"])
        return exif
    return pil.getexif()


def _decode_eight_bit(pil: Image.Image, name: str) -> np.ndarray:
    mode = pil.mode
    try:
        if mode == "P":
            pil = pil.convert("RGBA" if "transparency" in pil.info else "RGB")
        elif mode == "PA":
            pil = pil.convert("RGBA")
        elif mode == "1":
            pil = pil.convert("L")
        elif mode in ("F", "I", "HSV", "LAB"):
            raise UnsupportedImageError(
                f"'{name}' uses the {mode} colour mode; Restorer works on gray, RGB and RGBA photos."
            )
        elif mode not in ("L", "LA", "RGB", "RGBA"):
            pil = pil.convert("RGBA" if "A" in mode else "RGB")
        pil.load()
        pixels = np.array(pil)  # a writable copy: callers edit pixels in place
    except UnsupportedImageError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"'{name}' could not be decoded: {_reason(exc)}.") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return pixels.astype(np.uint8, copy=False)


def _reason(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return "it is truncated or damaged" if "truncat" in text.lower() else text


def _decode_sixteen_bit(data: bytes, name: str, index: int = 0) -> np.ndarray:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if index == 0:
        pixels = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    else:  # decode only the chosen page, not every page of the file
        ok, pages = cv2.imdecodemulti(buffer, cv2.IMREAD_UNCHANGED, None, (index, index + 1))
        pixels = pages[0] if ok and len(pages) == 1 else None
    if pixels is None:
        raise ImageReadError(f"'{name}' could not be decoded: it is truncated or damaged.")
    if pixels.dtype == np.uint8:
        pixels = pixels.astype(np.uint16) * 257
    if pixels.dtype != np.uint16:
        raise UnsupportedImageError(
            f"'{name}' stores {pixels.dtype} samples; Restorer handles 8- and 16-bit images."
        )
    if pixels.ndim == 2:
        return pixels[:, :, None]
    if pixels.shape[2] == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    if pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
    return pixels


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


def _exif_without_orientation(exif: Image.Exif, fmt: str) -> bytes | None:
    # For TIFF, Pillow's "EXIF" is the whole first IFD (strip offsets, sizes, ...), which
    # must not be copied into another file; TIFF resolution and profile travel separately.
    if fmt == "TIFF" or not len(exif):
        return None
    if _ORIENTATION_TAG in exif:
        exif[_ORIENTATION_TAG] = 1
    return exif.tobytes()


def _dpi(pil: Image.Image) -> tuple[float, float] | None:
    dpi = pil.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if x > 0 and y > 0 else None


def _read_xmp(pil: Image.Image, png_text: dict[str, str]) -> bytes | None:
    """The file's XMP packet as bytes; for PNG it is taken out of ``png_text`` (it is written
    back as XMP, not as a second text chunk)."""
    if pil.format == "PNG":
        packet = png_text.pop(XMP_PNG_KEY, None)
        return packet.encode("utf-8") if packet else None
    if pil.format == "TIFF":
        packet = getattr(pil, "tag_v2", {}).get(700)
    else:
        packet = pil.info.get("xmp")
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    return bytes(packet) if packet else None


def _png_text(pil: Image.Image) -> dict[str, str]:
    if pil.format != "PNG":
        return {}
    text = getattr(pil, "text", None) or {}
    return {str(k): str(v) for k, v in text.items()}


# --------------------------------------------------------------------------- writing


def save_image(
    image: RasterImage,
    path: str | os.PathLike,
    *,
    jpeg_quality: int = 95,
    extra_text: dict[str, str] | None = None,
    xmp: bytes | None = None,
    protect: tuple[str | os.PathLike, ...] = (),
) -> Path:
    """Write ``image`` to ``path`` atomically, in the format its extension names.

    PNG and TIFF keep 16 bits per channel; formats that cannot (JPEG, WebP, BMP) get the
    nearest 8-bit values. The colour profile, EXIF and resolution are written back where the
    format allows, and so is ``xmp`` (or else the source's XMP packet): PNG iTXt, TIFF tag 700,
    the JPEG APP1 and WebP XMP chunks (BMP has no place for it). ``protect`` lists paths that must never be overwritten (the original);
    the image's own source path is always protected.
    """
    staged = stage_image(image, path, jpeg_quality=jpeg_quality, extra_text=extra_text, xmp=xmp, protect=protect)
    try:
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    sync_folder(staged.target.parent)
    return staged.target


def stage_image(
    image: RasterImage,
    path: str | os.PathLike,
    *,
    jpeg_quality: int = 95,
    extra_text: dict[str, str] | None = None,
    xmp: bytes | None = None,
    protect: tuple[str | os.PathLike, ...] = (),
) -> "StagedFile":
    """Encode ``image`` as :func:`save_image` does into a temporary file beside ``path``, on
    disk but not yet in place: the caller commits it (or discards it) together with the files
    that belong to it."""
    target = Path(path)
    fmt = format_for_path(target)
    guarded = [p for p in (image.path, *protect) if p is not None]
    for original in guarded:
        if same_file(target, Path(original)):
            raise ImageWriteError(
                f"Refusing to overwrite the original '{Path(original).name}'; choose another file name."
            )
    pixels = _fit_pixels_to_format(image.pixels, fmt)
    text = dict(image.info.text)
    text.update(extra_text or {})
    info = replace(image.info, text=text, xmp=xmp if xmp is not None else image.info.xmp)

    def write(handle: io.BufferedWriter) -> None:
        if pixels.dtype == np.uint16:
            handle.write(_encode_sixteen_bit(pixels, fmt, info))
        else:
            _encode_eight_bit(pixels, fmt, info, handle, jpeg_quality)

    return stage_write(target, write)


#: Restorer's temporary files: ``.<target name>.restorer-<pid>-<random>.part`` beside the
#: target. The pid lets a later write remove those that a killed process left behind, and
#: only those.
TEMP_MARK, TEMP_SUFFIX = ".restorer-", ".part"
#: Room for the mark, pid and random part within the usual 255-byte name limit.
_TEMP_NAME_KEEP = 200


@dataclass(frozen=True)
class StagedFile:
    """A file written and flushed under a temporary name beside ``target``."""

    target: Path
    temp: Path

    def commit(self) -> None:
        """Rename the temporary file over the target (atomic on one file system)."""
        try:
            os.replace(self.temp, self.target)
        except OSError as exc:
            raise ImageWriteError(f"Could not write '{self.target}': {exc.strerror or exc}.") from None

    def discard(self) -> None:
        try:
            self.temp.unlink()
        except FileNotFoundError:
            pass  # committed already, or removed by the stale-file cleanup of another write


def temp_prefix(target: Path) -> str:
    """The start of every temporary file name Restorer uses for ``target``."""
    return f".{target.name[:_TEMP_NAME_KEEP]}{TEMP_MARK}"


def stale_temporaries(target: Path) -> list[Path]:
    """Restorer's temporary files for ``target`` whose writing process is gone."""
    folder = target.parent if str(target.parent) else Path(".")
    prefix = temp_prefix(target)
    found = []
    try:
        entries = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return []
    for name in entries:
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        pid_text = name[len(prefix):-len(TEMP_SUFFIX)].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text)):
            found.append(folder / name)
    return found


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate the process there; keep the file instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_temporaries(target: Path) -> None:
    for path in stale_temporaries(target):
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # another write cleaned it at the same moment
        except OSError as exc:
            raise ImageWriteError(f"Could not remove the leftover temporary file '{path}': "
                                  f"{exc.strerror or exc}.") from None


def stage_write(target: Path, write) -> StagedFile:
    """Call ``write(handle)`` on a new temporary file beside ``target`` and flush it to disk.

    The file gets the permissions a new file gets under the umask (0644 under 022), or those
    of the file it will replace. Leftovers of killed Restorer processes for the same target
    are removed first; any failure removes the temporary file and raises ImageWriteError.
    """
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ImageWriteError(f"The folder '{folder}' does not exist.")
    remove_stale_temporaries(target)
    try:
        keep_mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        keep_mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _attempt in range(100):
        temp = folder / f"{temp_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            fd = os.open(temp, flags, 0o666)  # the umask applies, unlike mkstemp's fixed 0600
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageWriteError(f"Cannot write into '{folder}': {exc.strerror or exc}.") from None
    else:
        raise ImageWriteError(f"Cannot create a temporary file in '{folder}'.")
    try:
        if keep_mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, keep_mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        StagedFile(target, temp).discard()
        if isinstance(exc, OSError):
            raise ImageWriteError(f"Could not write '{target}': {exc.strerror or exc}.") from None
        raise
    return StagedFile(target, temp)


def atomic_write(target: Path, write) -> None:
    """Call ``write(handle)`` on a temporary file beside ``target``, then rename it over."""
    staged = stage_write(target, write)
    try:
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    sync_folder(staged.target.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames, removals) to disk where the system allows it."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return  # the renames stand; only their durability across a power cut is left to the OS
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network shares) cannot sync a folder
    finally:
        os.close(fd)


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name the same file (or would, once written)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _fit_pixels_to_format(pixels: np.ndarray, fmt: str) -> np.ndarray:
    if pixels.dtype == np.uint16 and fmt not in _SIXTEEN_BIT_FORMATS:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    channels = pixels.shape[2]
    if fmt == "JPEG" and channels in (2, 4):  # JPEG has no alpha channel
        pixels = pixels[:, :, : channels - 1]
    elif fmt in ("BMP", "WEBP") and channels == 2:  # neither stores gray+alpha
        pixels = pixels[:, :, [0, 0, 0, 1]]
    return pixels


def _encode_eight_bit(pixels: np.ndarray, fmt: str, info: ImageInfo, handle, jpeg_quality: int) -> None:
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    array = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    pil = Image.fromarray(np.ascontiguousarray(array), mode)
    options: dict = {}
    if info.icc_profile and fmt != "BMP":
        options["icc_profile"] = info.icc_profile
    if info.dpi:
        options["dpi"] = info.dpi
    if fmt in ("JPEG", "WEBP"):
        exif = _exif_with_history(info)
        if exif:
            options["exif"] = exif
        if info.xmp:
            options["xmp"] = info.xmp
    elif info.exif and fmt == "PNG":
        options["exif"] = info.exif
    if fmt == "JPEG":
        options.update(quality=int(jpeg_quality), subsampling=0 if jpeg_quality >= 90 else 2)
    elif fmt == "WEBP":
        options.update(lossless=True)
    elif fmt == "TIFF":
        options.update(compression="tiff_lzw")
        if info.text.get("Software"):
            options["software"] = info.text["Software"]
        if info.text.get(HISTORY_KEY):
            options["description"] = info.text[HISTORY_KEY]
        if info.xmp:
            options["tiffinfo"] = {700: info.xmp}
    elif fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        png_info = PngInfo()
        for key, value in info.text.items():
            png_info.add_itxt(key, value)
        if info.xmp:
            png_info.add_itxt(XMP_PNG_KEY, info.xmp.decode("utf-8", "replace"))
        options["pnginfo"] = png_info
    try:
        pil.save(handle, format=fmt, **options)
    except (OSError, ValueError) as exc:
        raise ImageWriteError(f"Could not encode the image as {fmt}: {exc}.") from None


def _exif_with_history(info: ImageInfo) -> bytes | None:
    """EXIF for JPEG/WebP: the source's, plus Software and (if free) ImageDescription."""
    software, history = info.text.get("Software"), info.text.get(HISTORY_KEY)
    if not (software or history):
        return info.exif
    exif = Image.Exif()
    if info.exif:
        exif.load(info.exif)
    if software:
        exif[0x0131] = software
    if history and not exif.get(0x010E):
        exif[0x010E] = history
    return exif.tobytes()


def _encode_sixteen_bit(pixels: np.ndarray, fmt: str, info: ImageInfo) -> bytes:
    if fmt == "TIFF":
        return _encode_tiff16(pixels, info)
    channels = pixels.shape[2]
    bgr = pixels if channels <= 2 else cv2.cvtColor(
        pixels, cv2.COLOR_RGB2BGR if channels == 3 else cv2.COLOR_RGBA2BGRA
    )
    if channels == 2:  # OpenCV writes no gray+alpha PNG; widen to RGBA like most viewers do
        gray, alpha = pixels[:, :, 0], pixels[:, :, 1]
        bgr = np.dstack([gray, gray, gray, alpha])
    ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ImageWriteError("Could not encode the image as 16-bit PNG.")
    return _add_png_chunks(encoded.tobytes(), info)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _add_png_chunks(png: bytes, info: ImageInfo) -> bytes:
    """Insert colour profile, resolution, EXIF and text chunks right after IHDR."""
    ihdr_end = 8 + 4 + 4 + 13 + 4
    chunks = []
    if info.icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(info.icc_profile)))
    if info.dpi:
        ppm = [max(1, round(d / 0.0254)) for d in info.dpi]
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if info.exif:
        exif = info.exif[6:] if info.exif.startswith(b"Exif\x00\x00") else info.exif
        chunks.append(_png_chunk(b"eXIf", exif))
    text = dict(info.text)
    if info.xmp:
        text[XMP_PNG_KEY] = info.xmp.decode("utf-8", "replace")
    for key, value in text.items():
        payload = key.encode("latin-1", "replace")[:79] + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")
        chunks.append(_png_chunk(b"iTXt", payload))
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def _encode_tiff16(pixels: np.ndarray, info: ImageInfo) -> bytes:
    import tifffile

    channels = pixels.shape[2]
    photometric = "minisblack" if channels <= 2 else "rgb"
    array = pixels[:, :, 0] if channels == 1 else pixels
    # Deflate with horizontal differencing: smaller than plain deflate on photographs, read
    # by every TIFF reader; level 1 and strips compressed on all cores keep a 60 MP save fast.
    options: dict = {
        "photometric": photometric,
        "compression": "zlib",
        "compressionargs": {"level": 1},
        "predictor": True,
        "rowsperstrip": 64,
        "maxworkers": os.cpu_count() or 1,
        "metadata": None,
    }
    if channels in (2, 4):
        options["extrasamples"] = ("unassalpha",)
    if info.icc_profile:
        options["iccprofile"] = info.icc_profile
    if info.dpi:
        options["resolution"] = info.dpi
        options["resolutionunit"] = "INCH"
    if info.text.get("Software"):
        options["software"] = info.text["Software"]
    if info.text.get(HISTORY_KEY):
        options["description"] = info.text[HISTORY_KEY]
    if info.xmp:
        options["extratags"] = [(700, 1, len(info.xmp), info.xmp, True)]  # XMP, BYTE
    buffer = io.BytesIO()
    try:
        tifffile.imwrite(buffer, array, **options)
    except Exception as exc:  # tifffile raises many types; report which step failed
        raise ImageWriteError(f"Could not encode the image as 16-bit TIFF: {exc}.") from None
    return buffer.getvalue()
