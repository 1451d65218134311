"""Turning a file opened by Pillow (or OpenCV) into pixels and metadata, piece by piece: which
page, how many bits, 8- and 16-bit pixels, EXIF, resolution, XMP and PNG text.

Pillow reads headers, metadata and 8-bit pixels (it detects truncated files reliably);
OpenCV decodes 16-bit PNG/TIFF, which Pillow would truncate to 8 bits.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from .errors import ImageReadError, UnsupportedImageError
from .image_formats import MAX_PAGES, XMP_PNG_KEY

ORIENTATION_TAG = 0x0112


def choose_page(pil: Image.Image, name: str, page: int | None) -> tuple[int, int]:
    """Seek ``pil`` to the requested page (from 1), or else to its largest; return the
    page's index and the file's page count."""
    try:
        count = int(getattr(pil, "n_frames", 1) or 1)
        if count > MAX_PAGES:
            raise UnsupportedImageError(f"'{name}' has {count} pages; Restorer opens files of at most {MAX_PAGES}.")
        if page is not None:
            if page > count:
                raise ImageReadError(f"'{name}' has {count_of(count, pil.format)}; there is no page {page}.")
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
        raise ImageReadError(f"'{name}' could not be read: {failure_reason(exc)}.") from None
    return index, count


_PAGE_UNITS = {"TIFF": "page", "MPO": "image"}  # animated PNG and WebP have frames


def count_of(count: int, fmt: str | None) -> str:
    unit = _PAGE_UNITS.get(fmt or "", "frame")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def pages_notice(name: str, fmt: str | None, index: int, count: int, size: tuple[int, int]) -> str:
    unit = _PAGE_UNITS.get(fmt or "", "frame")
    return (f"'{name}' has {count_of(count, fmt)}; {unit} {index + 1} ({size[0]}x{size[1]}) was used; "
            f"the other {unit}s are not carried into the output.")


def is_sixteen_bit(pil: Image.Image) -> bool:
    if pil.mode.startswith("I;16") or pil.mode == "I":
        return True
    # Pillow opens 48/64-bit RGB(A) PNG and TIFF as 8-bit modes; the raw mode tells the truth.
    for tile in getattr(pil, "tile", []) or []:
        args = tile.args if hasattr(tile, "args") else tile[3]
        rawmode = args[0] if isinstance(args, tuple) else args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def read_exif(pil: Image.Image) -> Image.Exif:
    # PNG's getexif() decodes the whole image to look for a trailing eXIf chunk; a chunk
    # before the pixel data (where writers put it) is already in ``info``.
    if pil.format == "PNG":
        exif = Image.Exif()
        if pil.info.get("exif"):
            exif.load(pil.info["exif"])
        return exif
    return pil.getexif()


def decode_eight_bit(pil: Image.Image, name: str) -> np.ndarray:
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
        raise ImageReadError(f"'{name}' could not be decoded: {failure_reason(exc)}.") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return pixels.astype(np.uint8, copy=False)


def failure_reason(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return "it is truncated or damaged" if "truncat" in text.lower() else text


def decode_sixteen_bit(data: bytes, name: str, index: int = 0) -> np.ndarray:
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


def exif_without_orientation(exif: Image.Exif, fmt: str) -> bytes | None:
    # For TIFF, Pillow's "EXIF" is the whole first IFD (strip offsets, sizes, ...), which
    # must not be copied into another file; TIFF resolution and profile travel separately.
    if fmt == "TIFF" or not len(exif):
        return None
    if ORIENTATION_TAG in exif:
        exif[ORIENTATION_TAG] = 1
    return exif.tobytes()


def read_dpi(pil: Image.Image) -> tuple[float, float] | None:
    dpi = pil.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if x > 0 and y > 0 else None


def read_xmp(pil: Image.Image, png_text: dict[str, str]) -> bytes | None:
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


def read_png_text(pil: Image.Image) -> dict[str, str]:
    if pil.format != "PNG":
        return {}
    text = getattr(pil, "text", None) or {}
    return {str(k): str(v) for k, v in text.items()}
