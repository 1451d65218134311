"""Photos out of packages that are not wallpaper packages: the Qt resource reader, per-file
credits, and licences read from an unpacked tree (no package is downloaded here)."""

import struct
import zlib

import cv2
import numpy as np
import pytest

from models.data import crop_black_bars, more_candidates, parse_credits
from models.rcc import RccError, RccFile


def _name(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return struct.pack(">HI", len(text), 0) + encoded


def handmade_rcc() -> bytes:
    """A version-2 resource file: /images/a.txt (zlib-compressed) and /images/b.bin (stored)."""
    names = b""
    offsets = {}
    for text in ("images", "a.txt", "b.bin"):
        offsets[text] = len(names)
        names += _name(text)
    packed = b"hello " * 20
    compressed = struct.pack(">I", len(packed)) + zlib.compress(packed)
    data = struct.pack(">I", len(compressed)) + compressed
    stored_at = len(data)
    data += struct.pack(">I", 3) + b"\x01\x02\x03"
    mtime = struct.pack(">Q", 0)
    tree = (struct.pack(">IHII", 0, 0x2, 1, 1) + mtime                              # root: 1 child at 1
            + struct.pack(">IHII", offsets["images"], 0x2, 2, 2) + mtime            # images/: 2 at 2
            + struct.pack(">IHHHI", offsets["a.txt"], 0x1, 0, 0, 0) + mtime         # compressed file
            + struct.pack(">IHHHI", offsets["b.bin"], 0x0, 0, 0, stored_at) + mtime)
    header_size = 20
    data_at, names_at = header_size, header_size + len(data)
    tree_at = names_at + len(names)
    return b"qres" + struct.pack(">IIII", 2, tree_at, data_at, names_at) + data + names + tree


def test_rcc_reader_lists_and_uncompresses_a_handmade_file():
    rcc = RccFile(handmade_rcc())
    assert rcc.names() == ["images/a.txt", "images/b.bin"]
    assert rcc.read("images/a.txt") == b"hello " * 20
    assert rcc.read("images/b.bin") == b"\x01\x02\x03"
    with pytest.raises(RccError):
        RccFile(b"PK\x03\x04" + bytes(40))


GCOMPRIS_README = """Copyright: Timothee Giet, 2018
License: CC-BY-SA 4.0
Files:
question.svg

Copyright: Kurt Kaiser
License: CC0-1.0
Source: https://commons.wikimedia.org/wiki/File:American_Bison_9.jpg
Files:
bison.webp

Copyright: Sergio Cambelo
Files: giraffe.webp
License: Public domain

Copyright: 2000, 2008 Bruno Coudoin and others
License: CC-BY 4.0
EilanDonanCastle_0.webp
EilanDonanCastle_background.webp
Comment: based on a photo by Guillaume Piolle, license CC-BY 3.0
"""


def test_gcompris_credits_name_each_file_with_its_licence():
    credits = parse_credits(GCOMPRIS_README)
    assert credits["bison.webp"][0] == "CC0-1.0" and "Kurt Kaiser" in credits["bison.webp"][1]
    assert "American_Bison_9.jpg" in credits["bison.webp"][1]
    assert credits["giraffe.webp"] == ("public-domain", "Sergio Cambelo")
    licence, holder = credits["EilanDonanCastle_background.webp"]
    assert licence == "CC-BY-4.0" and "Guillaume Piolle" in holder  # the derivative's licence, the original credited
    assert credits["question.svg"][0] == "CC-BY-SA-4.0"


def test_palapeli_licences_come_from_each_desktop_file(tmp_path):
    folder = tmp_path / "usr/share/palapeli/collection"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for stem, licence, author in (("bridge", "Public Domain", "Derek Jensen"), ("castle", "FDL", "Eric Pouhier")):
        cv2.imwrite(str(folder / f"{stem}.jpg"), rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
        (folder / f"{stem}.desktop").write_text(
            f"[Desktop Entry]\nName={stem}\nX-KDE-PluginInfo-Author={author}\nX-KDE-PluginInfo-License={licence}\n")
    found = {f.ident: f for f in more_candidates("palapeli-data", tmp_path, [])}
    assert set(found) == {"palapeli-bridge", "palapeli-castle"}
    assert (found["palapeli-bridge"].licence, found["palapeli-bridge"].holder) == ("public-domain", "Derek Jensen")
    assert found["palapeli-castle"].licence == "GFDL"
    assert found["palapeli-castle"].original == "/usr/share/palapeli/collection/castle.jpg"
    assert found["palapeli-castle"].rgb.shape == (300, 400, 3)


def test_grey_photos_from_pywt_archives_become_three_equal_channels(tmp_path):
    folder = tmp_path / "usr/lib/python3/dist-packages/pywt/data"
    folder.mkdir(parents=True)
    grey = np.arange(512 * 512, dtype=np.uint32).reshape(512, 512) % 251
    for name in ("aero", "camera"):
        np.savez(folder / f"{name}.npz", data=grey.astype(np.uint8))
    found = list(more_candidates("python3-pywt", tmp_path, []))
    assert [f.ident for f in found] == ["pywt-aero", "pywt-camera"]
    rgb = found[1].rgb
    assert rgb.shape == (512, 512, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    assert found[1].licence == "MIT"


def test_black_bars_are_cropped_and_content_kept():
    image = np.zeros((100, 200, 3), np.uint8)
    image[10:90, 20:180] = 120
    image[40, 50] = 0  # a dark pixel inside the photo is content, not a bar
    cropped = crop_black_bars(image)
    assert cropped.shape == (80, 160, 3) and cropped[30, 30, 0] == 0
