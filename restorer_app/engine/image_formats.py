"""Which files Restorer reads and writes, the keys it writes its record under, and the limits
that keep a crafted or enormous file from exhausting memory."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ImageReadError, ImageTooLargeError, UnsupportedImageError

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
SIXTEEN_BIT_FORMATS = ("PNG", "TIFF")
#: Text key under which the retouching history is embedded (see provenance.embedded_tags).
HISTORY_KEY = "Restorer history"
#: The PNG iTXt keyword under which XMP lives (XMP specification part 3).
XMP_PNG_KEY = "XML:com.adobe.xmp"


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


def max_file_bytes(max_pixels: int) -> int:
    """The largest file worth reading for an image of at most ``max_pixels``: uncompressed
    16-bit RGBA with room for previews and metadata. Larger input is not a photo we can open."""
    return max_pixels * 8 + (256 << 20)


def check_pixel_limit(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"'{name}' is {width}x{height} ({width * height / 1e6:.0f} MP), more than the "
            f"limit of {max_pixels / 1e6:.0f} MP; if you trust this file, raise the limit with "
            f"--max-megapixels or the {MAX_PIXELS_VARIABLE} environment variable."
        )
    if width == 0 or height == 0:
        raise ImageReadError(f"'{name}' has no pixels.")
