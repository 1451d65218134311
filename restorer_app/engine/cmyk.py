"""CMYK files (images prepared for print) as 8-bit RGB with an sRGB profile, and their XMP
rewritten so the output never claims to be CMYK."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .errors import ImageReadError, UnsupportedImageError
from .image_decode import failure_reason

#: Pillow's conversion without a profile, said in the notice so the user knows what was done.
_NAIVE_CMYK = "with the simple formula R = 255 (1 - C)(1 - K), likewise G from M and B from Y"


def decode_cmyk(pil: Image.Image, name: str, sixteen: bool) -> tuple[np.ndarray, bytes, str, str]:
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
                how = f"{_NAIVE_CMYK}, because its embedded profile cannot be used ({failure_reason(exc)})"
        else:
            how = f"{_NAIVE_CMYK}, because it embeds no colour profile and Restorer bundles no standard CMYK profile"
        rgb_is_naive = rgb is None
        if rgb_is_naive:
            rgb = pil.convert("RGB")
        pixels = np.array(rgb)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"'{name}' could not be decoded: {failure_reason(exc)}.") from None
    conversion = f"CMYK converted to sRGB {how}"
    approximate = " Its colours are approximate." if rgb_is_naive else ""
    notice = f"'{name}' is CMYK; it was converted to RGB {how}.{approximate} The output is RGB with an sRGB profile."
    return pixels.astype(np.uint8, copy=False), srgb.tobytes(), conversion, notice


#: What a CMYK file's XMP says about its colours, and what it must say of the RGB pixels
#: (Photoshop's colour mode 3 = RGB; TIFF photometric 2 = RGB, 3 samples).
_XMP_COLOUR_FACTS = {"photoshop:ColorMode": "3", "photoshop:ICCProfile": "sRGB built-in",
                     "tiff:PhotometricInterpretation": "2", "tiff:SamplesPerPixel": "3"}


def xmp_now_rgb(xmp: bytes) -> bytes:
    """The source's XMP with its colour facts rewritten for the converted RGB pixels, in
    attribute or element form, so the output never claims to be CMYK."""
    import re

    text = xmp.decode("utf-8", "replace")
    for key, value in _XMP_COLOUR_FACTS.items():
        for quote in "\"'":
            text = re.sub(rf"({re.escape(key)}\s*=\s*{quote})[^{quote}]*{quote}", rf"\g<1>{value}{quote}", text)
        text = re.sub(rf"(<{re.escape(key)}>)[^<]*(</{re.escape(key)}>)", rf"\g<1>{value}\g<2>", text)
    return text.encode("utf-8")
