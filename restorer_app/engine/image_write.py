"""Writing photographs back faithfully: the format the extension names, 16 bits where the
format holds them, the colour profile, EXIF, resolution, text and XMP where it has room.

Pillow encodes 8-bit files; 16-bit PNG is encoded by OpenCV with the metadata chunks
inserted afterwards, and 16-bit TIFF by tifffile with its ICC profile. Every write goes
through :mod:`files`, so a crash never leaves half a file.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .errors import ImageWriteError
from .files import StagedFile, commit_and_sync, same_file, stage_write
from .image_formats import HISTORY_KEY, SIXTEEN_BIT_FORMATS, XMP_PNG_KEY, format_for_path
from .imageio import ImageInfo, RasterImage


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
    return commit_and_sync(stage_image(image, path, jpeg_quality=jpeg_quality, extra_text=extra_text, xmp=xmp,
                                       protect=protect))


def stage_image(
    image: RasterImage,
    path: str | os.PathLike,
    *,
    jpeg_quality: int = 95,
    extra_text: dict[str, str] | None = None,
    xmp: bytes | None = None,
    protect: tuple[str | os.PathLike, ...] = (),
) -> StagedFile:
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


def _fit_pixels_to_format(pixels: np.ndarray, fmt: str) -> np.ndarray:
    if pixels.dtype == np.uint16 and fmt not in SIXTEEN_BIT_FORMATS:
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
