"""Training photographs, prepared offline from packages that ship real photos.

``python -m models.data prepare --out data/photos`` downloads three Debian wallpaper packages
and eleven packages that hold a few photographs among other files (``MORE_DEBS``) with
``apt-get download``, unpacks them with ``dpkg-deb -x`` into a cache folder, keeps only the
photographs, adds the colour photographs shipped inside scikit-image and scikit-learn (and any
``--extra`` folders of your own), shrinks every photo so its long side is at most 1024 pixels,
and writes ``files.csv`` listing each file with its split, source, original path and licence.

A fixed set of whole photos is kept aside for validation and never trained on: crops of a
training photo would leak its content into the score otherwise. The same list feeds the
model card, so every training and validation file is accounted for with its licence.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import fnmatch
import hashlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # wallpapers reach 5640x3172; these are trusted local files

DEB_PACKAGES = ("lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers")
SHORT_NAMES = {"lomiri-wallpapers-16.04": "lomiri", "mate-backgrounds": "mate",
               "plasma-workspace-wallpapers": "plasma"}
#: What ``prepare`` can take: the three wallpaper packages, the photos inside Python packages,
#: and the packages of ``MORE_DEBS``, whose few photographs sit among artwork, icons and code.
SOURCES = ("wallpapers", "bundled", "more")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
LONG_SIDE = 1024
MIN_SIDE = 256

#: Artwork that passes the automatic checks (rich colours, some texture) but is not a
#: photograph: digital paintings, renders, abstract patterns. Reviewed by eye once; keeping the
#: list explicit makes the selection reproducible and auditable.
NOT_PHOTOGRAPHS = {
    "lomiri-umang_by_Abhishek_Mudgal": "colour gradient artwork",
    "mate-Elephants": "abstract artwork", "mate-Elephants_3840x2160": "abstract artwork",
    "mate-Elephants_5640x3172": "abstract artwork", "mate-Gulp": "abstract artwork",
    "mate-Float-into-MATE": "rendered artwork", "mate-Ubuntu-Mate-Cold-no-logo": "rendered aurora",
    "mate-Ubuntu-Mate-Warm-no-logo": "rendered aurora", "mate-Ubuntu-Mate-Radioactive-no-logo": "rendered aurora",
    "mate-Ubuntu-Mate-Dark-no-logo": "rendered aurora", "mate-GreenTraditional": "logo artwork",
    "mate-Stripes": "pattern", "plasma-Altai": "vector artwork", "plasma-Autumn": "digital painting",
    "plasma-Canopee": "vector artwork", "plasma-Cascade": "vector artwork", "plasma-Cluster": "vector artwork",
    "plasma-Elarun": "vector artwork", "plasma-Flow": "vector artwork", "plasma-FlyingKonqui": "illustration",
    "plasma-Honeywave": "vector artwork", "plasma-IceCold": "vector artwork", "plasma-Kay": "vector artwork",
    "plasma-Kokkini": "vector artwork", "plasma-MilkyWay": "vector artwork", "plasma-Opal": "vector artwork",
    "plasma-PastelHills": "vector artwork", "plasma-Patak": "vector artwork", "plasma-SafeLanding": "illustration",
    "plasma-Shell": "rendered artwork", "plasma-Volna": "rendered artwork",
    **{f"gcompris-details-{name}": "painting by Van Gogh" for name in (
        "Eglise_dAuvers-sur-Oise", "Gogh4", "PortraitOfPereTanguy", "Van_Gogh_The_Night_Cafe",
        "VincentVanGogh0012", "VincentVanGogh0013", "VincentVanGogh0019", "VincentVanGoghBridge")},
}

#: Whole photos kept aside for validation (spread over sources and subjects). ``astronaut``
#: is also the app's bundled damaged sample, so the model never trains on the demo photo.
VALIDATION = frozenset({
    "skimage-astronaut", "sklearn-china", "lomiri-picosdeeuropa_by_Aitzol_Berasategi",
    "mate-LadyBird", "plasma-EveningGlow", "plasma-Path",
    # From MORE_DEBS: a grey photo (camera), fine detail (branches, window lattices, hair,
    # bridge girders at night), fur, snow, people, macro.
    "lxqt-Valendas", "gcompris-erase-meerkats", "gcompris-explore_monuments-hawaMahal",
    "gcompris-explore_world_animals-polar_bear", "gcompris-explore_world_music-japan",
    "gcompris-details-TowerBridgeLondon", "tuxpaint-trees_at_dusk", "palapeli-european-honey-bee",
    "matplotlib-grace_hopper", "pywt-camera",
})


@dataclass(frozen=True)
class BundledPhoto:
    """A photograph shipped inside a Python package, with the licence its package states."""

    package: str
    relative: str
    licence: str
    copyright: str


BUNDLED = (
    BundledPhoto("skimage", "data/astronaut.png", "public-domain", "NASA (Eileen Collins portrait)"),
    BundledPhoto("skimage", "data/coffee.png", "CC0-1.0", "Rachel Michetti"),
    BundledPhoto("skimage", "data/chelsea.png", "CC0-1.0", "Stefan van der Walt"),
    BundledPhoto("skimage", "data/rocket.jpg", "public-domain", "SpaceX (DSCOVR launch)"),
    BundledPhoto("sklearn", "datasets/images/china.jpg", "CC-BY-2.0", "danielbuechele (Flickr)"),
    BundledPhoto("sklearn", "datasets/images/flower.jpg", "CC-BY-2.0", "vultilion (Flickr)"),
)


@dataclass
class PhotoRecord:
    """One row of ``files.csv``."""

    file: str
    id: str
    split: str
    source: str
    package_version: str
    original_path: str
    licence: str
    copyright: str
    width: int
    height: int
    original_sha256: str
    caption: str = ""


# ------------------------------------------------------------------ Debian packages

def download_deb(package: str, debs: Path) -> Path:
    """``apt-get download`` into ``debs`` unless a .deb of the package is already there."""
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    try:
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit("apt-get is not available here; run on Debian/Ubuntu or pass --no-debs.") from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"apt-get download {package} failed (run 'apt-get update' first?): {exc.stderr.strip()}") from None
    return sorted(debs.glob(f"{package}_*.deb"))[-1]


def unpack_deb(deb: Path, target: Path) -> Path:
    """``dpkg-deb -x`` once; a marker file makes re-runs skip the unpack."""
    marker = target / ".unpacked"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        marker.write_text(deb.name)
    return target


def deb_version(deb: Path) -> str:
    try:
        return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return deb.name.split("_")[1] if "_" in deb.name else "?"


def parse_copyright(path: Path) -> list[dict[str, str]]:
    """Stanzas of a machine-readable debian/copyright (DEP-5) file, as dicts of fields."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in " \t":
            if key:  # an indented line with no field before it (a stray licence text) is dropped
                current[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            current[key.strip()] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def licence_for(installed: str, stanzas: list[dict[str, str]]) -> tuple[str, str]:
    """(licence, copyright) for an installed file; the last matching ``Files`` stanza wins
    (DEP-5). Patterns name source-tree paths, so they are matched by path suffix, then by
    exact base name (lomiri's source folder ``16.04/`` is installed as ``backgrounds/``); a
    wildcard base name alone (``nature/*.jpg``) is too loose to match on."""
    best = ("unknown", "")
    for stanza in stanzas:
        patterns = stanza.get("Files", "").split()
        for pattern in patterns:
            if pattern.startswith(("debian/", "po/")):
                continue  # packaging and translation files are never installed images
            base = os.path.basename(pattern)
            hit = (pattern == "*" or fnmatch.fnmatch(installed, "*/" + pattern)
                   or (not any(c in base for c in "*?[") and os.path.basename(installed) == base))
            if hit:
                best = (stanza.get("License", "unknown").split("\n")[0].strip(),
                        " ".join(stanza.get("Copyright", "").split()))
                break
    return best


def _plasma_metadata(wallpaper_dir: Path) -> tuple[str, str] | None:
    """KDE wallpapers carry their own author and licence in metadata.json; more precise
    than the package-wide copyright stanza."""
    meta = wallpaper_dir / "metadata.json"
    if not meta.is_file():
        return None
    plugin = json.loads(meta.read_text(encoding="utf-8")).get("KPlugin", {})
    authors = ", ".join(a.get("Name", "") for a in plugin.get("Authors", []))
    return (plugin["License"], authors) if plugin.get("License") else None


def package_candidates(package: str, root: Path) -> list[tuple[str, Path]]:
    """(id, image path) pairs worth judging: real files (symlinks resolved once), no
    screenshots, and for KDE wallpapers only the largest image of the light variant."""
    short = SHORT_NAMES[package]
    found: dict[str, tuple[str, Path]] = {}
    if package == "plasma-workspace-wallpapers":
        for folder in sorted((root / "usr/share/wallpapers").iterdir()):
            images = [p for p in (folder / "contents/images").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
            if images:
                def pixels(p: Path) -> int:
                    w, h = (int(v) for v in re.findall(r"\d+", p.stem)[:2]) if re.match(r"\d+x\d+", p.stem) else (0, 0)
                    return w * h
                best = max(images, key=lambda p: (pixels(p), p.name))
                found[f"{short}-{folder.name}"] = (f"{short}-{folder.name}", best)
        return list(found.values())
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.is_symlink() or "screenshot" in path.name.lower():
            continue
        ident = f"{short}-{path.stem}"
        found.setdefault(ident, (ident, path))
    return list(found.values())


# ------------------------------------------------- photographs among other files

#: Debian packages that hold a few real photographs each, with the short name used in ids.
MORE_DEBS = {
    "lxqt-themes": "lxqt", "gcompris-qt-data": "gcompris", "tuxpaint-data": "tuxpaint",
    "palapeli-data": "palapeli", "lomiri-wallpapers-20.04": "lomiri2004", "sddm-theme-maldives": "sddm",
    "digikam-data": "digikam", "kodi-data": "kodi", "python-matplotlib-data": "matplotlib",
    "python3-scipy": "scipy", "python3-pywt": "pywt",
}
#: The photographs among lxqt's wallpapers (the others are logos and polygon art).
LXQT_PHOTOS = ("Butterfly-Kenneth-Wimer.jpg", "after-the-rain.jpg", "fog.jpg", "this-is-not-windows.jpg",
               "Valendas.png", "appleflower.png", "beam.png", "butterfly.png", "cloud.png", "drop.png",
               "flowers.png")
#: GCompris activities whose resource files are photographs (``clickgame`` is left out: its six
#: underwater photos are compressed too heavily to serve as clean targets).
GCOMPRIS_ACTIVITIES = ("erase", "explore_monuments", "explore_world_animals", "explore_farm_animals",
                       "explore_world_music", "details")
#: Single photographs, by installed path, with (licence, holder) where the package's copyright
#: file does not name them (None: take them from it); the other images in these packages are
#: icons, renders, screenshots or paintings.
SINGLE_PHOTOS: dict[str, tuple[tuple[str, tuple[str, str] | None], ...]] = {
    "lomiri-wallpapers-20.04": (("usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg", None),),
    "sddm-theme-maldives": (("usr/share/sddm/themes/maldives/background.jpg", None),),
    "digikam-data": (("usr/share/digikam/about/images/body-background.jpg",
                      ("GPL-2+", "digiKam developers (package copyright file, not DEP-5)")),),
    "kodi-data": (("usr/share/kodi/addons/skin.estuary/extras/home-images/movie.jpg", None),),
    "python-matplotlib-data": (("usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                                ("public-domain", "U.S. Navy portrait of Grace Hopper")),),
}
SCIPY_MISC = "usr/lib/python3/dist-packages/scipy/misc"
PYWT_DATA = "usr/lib/python3/dist-packages/pywt/data"


@dataclass
class Found:
    """A candidate photograph out of a package: pixels, where they came from, whose they are."""

    ident: str
    original: str
    licence: str
    holder: str
    rgb: np.ndarray
    sha: str


def _licence_name(text: str) -> str:
    """'CC-BY-SA 4.0' and 'Public domain' as SPDX-like names."""
    text = " ".join(text.split())
    if text.lower().replace("-", " ") in ("public domain", "pd"):
        return "public-domain"
    return re.sub(r"^(CC[- ]BY(?:[- ]SA)?)[ -]?(\d\.\d)$", lambda m: m[1].replace(" ", "-") + "-" + m[2], text,
                  flags=re.I).upper() if text.upper().startswith("CC") else text


def parse_credits(text: str) -> dict[str, tuple[str, str]]:
    """{file name: (licence, holder)} from a GCompris ``resource/README``: blank-line separated
    stanzas of ``Copyright:``, ``License:``, ``Source:``, ``Comment:`` and ``Files:``, with file
    names also on lines of their own (with or without a ``Files:`` key before them)."""
    credits: dict[str, tuple[str, str]] = {}
    for block in re.split(r"\n\s*\n", text):
        fields_: dict[str, str] = {}
        files: list[str] = []
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("Copyright", "License", "Source", "Comment", "Comments", "Files"):
                if key.strip() == "Files":
                    files += value.split()
                else:
                    fields_[key.strip()] = value.strip()
            elif line.strip():
                files.append(line.strip())
        if not files or "License" not in fields_:
            continue
        holder = "; ".join(v for v in (fields_.get("Copyright", ""), fields_.get("Comment", ""),
                                       fields_.get("Source", "")) if v)
        for name in files:
            credits[name] = (_licence_name(fields_["License"]), holder)
    return credits


def _credit_for(resource: str, credits: dict[str, tuple[str, str]], activity: str) -> tuple[str, str]:
    for name, credit in credits.items():
        if resource == name or resource.endswith("/" + name):
            return credit
    return ("CC-BY-SA (Wikimedia; see gcompris activity credits)", f"GCompris activity {activity}")


def _gcompris_photos(root: Path, short: str):
    from models.rcc import RccFile

    for activity in GCOMPRIS_ACTIVITIES:
        rcc_path = root / "usr/share/gcompris-qt/rcc" / f"{activity}.rcc"
        rcc = RccFile.open(rcc_path)
        prefix = f"gcompris/src/activities/{activity}/"
        credits: dict[str, tuple[str, str]] = {}
        for name in rcc.names():
            if name.endswith("/README"):
                credits.update(parse_credits(rcc.read(name).decode("utf-8", errors="replace")))
        for name in rcc.names():
            if not name.endswith(".webp") or "/resource/" not in name:
                continue
            stem = Path(name).stem
            if activity == "details":
                if not stem.endswith("_background"):
                    continue  # the rest are the 74-pixel puzzle pieces cut from it
                stem = stem[: -len("_background")]
            data = rcc.read(name)
            resource = name[len(prefix):].split("resource/", 1)[-1]
            licence, holder = _credit_for(resource, credits, activity)
            with Image.open(io.BytesIO(data)) as image:
                rgb = np.asarray(image.convert("RGB"))
            yield Found(f"{short}-{activity}-{stem}", f"/{rcc_path.relative_to(root)}:/{name}", licence, holder,
                        rgb, hashlib.sha256(data).hexdigest())


def _desktop_fields(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values.setdefault(key.strip(), value.strip())
    return values


def crop_black_bars(rgb: np.ndarray, level: float = 10.0) -> np.ndarray:
    """Cut off rows and columns at the edges that are (nearly) black: letterboxing is no
    part of the photograph and would teach the model that black borders are content."""
    grey = rgb.astype(np.float32).mean(axis=2)
    rows = np.flatnonzero(grey.mean(axis=1) > level)
    cols = np.flatnonzero(grey.mean(axis=0) > level)
    if rows.size == 0 or cols.size == 0:
        return rgb
    return rgb[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


class _NoObjects(pickle.Unpickler):
    """Unpickles plain lists and numbers only: ``ascent.dat`` needs nothing else."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    grey = np.asarray(grey)
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def more_candidates(package: str, root: Path, stanzas: list[dict[str, str]]):
    """Yield :class:`Found` photographs of one ``MORE_DEBS`` package unpacked at ``root``."""
    short = MORE_DEBS[package]

    def from_file(path: Path, licence: str, holder: str, ident: str | None = None) -> Found:
        return Found(ident or f"{short}-{path.stem}", "/" + str(path.relative_to(root)), licence, holder,
                     load_rgb(path), sha256_of(path))

    def deb_licence(path: Path) -> tuple[str, str]:
        return licence_for("/" + str(path.relative_to(root)), stanzas)

    if package == "lxqt-themes":
        folder = root / "usr/share/lxqt/wallpapers"
        # wallpapers/License covers these; Debian's copyright file lists only the package-wide LGPL.
        for name in LXQT_PHOTOS:
            yield from_file(folder / name, "CC-BY-SA-3.0", "LXQt Project Team (wallpapers/License)")
    elif package == "gcompris-qt-data":
        yield from _gcompris_photos(root, short)
    elif package == "tuxpaint-data":
        for path in sorted((root / "usr/share/tuxpaint/templates").glob("*.jpg")):
            found = from_file(path, *deb_licence(path))
            found.rgb = crop_black_bars(found.rgb)
            yield found
    elif package == "palapeli-data":
        for path in sorted((root / "usr/share/palapeli/collection").glob("*.jpg")):
            meta = _desktop_fields(path.with_suffix(".desktop"))
            licence = _licence_name(meta.get("X-KDE-PluginInfo-License", "unknown"))
            licence = {"FDL": "GFDL", "GNU-FDL": "GFDL"}.get(licence, licence)
            yield from_file(path, licence, meta.get("X-KDE-PluginInfo-Author", ""))
    elif package in SINGLE_PHOTOS:
        for relative, stated in SINGLE_PHOTOS[package]:
            path = root / relative
            yield from_file(path, *(stated or deb_licence(path)))
    elif package == "python3-scipy":
        face = root / SCIPY_MISC / "face.dat"
        rgb = np.frombuffer(bz2.decompress(face.read_bytes()), np.uint8).reshape(768, 1024, 3)
        yield Found(f"{short}-face", "/" + str(face.relative_to(root)), "public-domain",
                    "raccoon-procyon-lotor.jpg, public-domain-image.com (per scipy.misc.face)", rgb,
                    sha256_of(face))
        ascent = root / SCIPY_MISC / "ascent.dat"
        with open(ascent, "rb") as handle:
            grey = np.array(_NoObjects(handle).load())
        yield Found(f"{short}-ascent", "/" + str(ascent.relative_to(root)), *deb_licence(ascent),
                    _grey_to_rgb(grey), sha256_of(ascent))
    elif package == "python3-pywt":
        for name in ("aero", "camera"):
            path = root / PYWT_DATA / f"{name}.npz"
            with np.load(path, allow_pickle=False) as archive:
                grey = archive["data"]
            yield Found(f"{short}-{name}", "/" + str(path.relative_to(root)), "MIT",
                        "The PyWavelets Developers (package licence; the photo's origin is not stated)",
                        _grey_to_rgb(grey), sha256_of(path))


# --------------------------------------------------------------------- photo checks

def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def not_a_photograph(rgb: np.ndarray) -> str | None:
    """Why an image is probably not a photograph, or None. Catches logos, flat vector art
    and smooth synthetic gradients; artwork with photographic texture needs the curated list."""
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        return f"too small ({w}x{h})"
    scale = 512 / max(h, w)
    thumb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)
    if float(hsv[:, :, 1].mean()) < 12:  # grey photo: count grey levels instead of colours
        distinct = len(np.unique(thumb.mean(axis=2).astype(np.uint8)))
        if distinct < 48:
            return f"only {distinct} grey levels"
    else:
        q = (thumb >> 2).astype(np.int32)
        distinct = len(np.unique(q[..., 0] * 4096 + q[..., 1] * 64 + q[..., 2]))
        if distinct < 300:
            return f"only {distinct} distinct colours"
    gray = thumb.astype(np.float32).mean(axis=2)
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F))
    flat = float((lap < 0.5).mean())
    if flat > 0.35:
        return f"{flat:.0%} perfectly smooth pixels (synthetic gradients)"
    return None


def shrink(rgb: np.ndarray, long_side: int = LONG_SIDE) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return rgb
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _split_for(ident: str, user: bool) -> str:
    if not user:
        return "val" if ident in VALIDATION else "train"
    # User folders: a stable one-in-eight by name, so adding photos never reshuffles old ones.
    return "val" if int(hashlib.sha1(ident.encode()).hexdigest(), 16) % 8 == 0 else "train"


# ---------------------------------------------------------------------- prepare

def prepare(out: Path, cache: Path, extra: list[Path], extra_licence: str, use_debs: bool = True,
            use_bundled: bool = True, log=print, use_more: bool | None = None) -> list[PhotoRecord]:
    """Build the photo folder; returns the records written to ``files.csv``. ``use_debs`` is the
    three wallpaper packages, ``use_more`` the ``MORE_DEBS`` (by default: as ``use_debs``)."""
    use_more = use_debs if use_more is None else use_more
    out.mkdir(parents=True, exist_ok=True)
    records: list[PhotoRecord] = []
    skipped: list[tuple[str, str]] = []

    def keep(ident: str, rgb: np.ndarray, source: str, version: str, original: str, licence: str,
             holder: str, sha: str, caption: str = "", user: bool = False) -> None:
        small = shrink(rgb)
        name = f"{ident}.png"
        cv2.imwrite(str(out / name), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        records.append(PhotoRecord(name, ident, _split_for(ident, user), source, version, original, licence,
                                   holder, small.shape[1], small.shape[0], sha, caption))

    if use_debs:
        for package in DEB_PACKAGES:
            deb = download_deb(package, cache / "debs")
            root = unpack_deb(deb, cache / "unpacked" / package)
            version = deb_version(deb)
            stanzas = parse_copyright(root / "usr/share/doc" / package / "copyright")
            for ident, path in package_candidates(package, root):
                if ident in NOT_PHOTOGRAPHS:
                    skipped.append((ident, NOT_PHOTOGRAPHS[ident]))
                    continue
                rgb = load_rgb(path)
                reason = not_a_photograph(rgb)
                if reason:
                    skipped.append((ident, reason))
                    continue
                installed = "/" + str(path.relative_to(root))
                licence, holder = licence_for(installed, stanzas)
                if package == "plasma-workspace-wallpapers":
                    licence, holder = _plasma_metadata(path.parents[2]) or (licence, holder)
                keep(ident, rgb, package, version, installed, licence, holder, sha256_of(path))
    if use_more:
        for package in MORE_DEBS:
            deb = download_deb(package, cache / "debs")
            root = unpack_deb(deb, cache / "unpacked" / package)
            version = deb_version(deb)
            copyright_file = root / "usr/share/doc" / package / "copyright"
            stanzas = parse_copyright(copyright_file) if copyright_file.is_file() else []
            for found in more_candidates(package, root, stanzas):
                # Picked by name and looked at one by one: only the size check applies. The
                # smoothness test would drop real photos with bokeh or clear sky.
                h, w = found.rgb.shape[:2]
                reason = NOT_PHOTOGRAPHS.get(found.ident) or (f"too small ({w}x{h})" if min(h, w) < MIN_SIDE else None)
                if reason:
                    skipped.append((found.ident, reason))
                    continue
                keep(found.ident, found.rgb, package, version, found.original, found.licence, found.holder,
                     found.sha)
    if use_bundled:
        for photo in BUNDLED:
            module = __import__(photo.package)
            path = Path(module.__file__).parent / photo.relative
            version = getattr(module, "__version__", "?")
            ident = f"{photo.package}-{Path(photo.relative).stem}"
            keep(ident, load_rgb(path), f"python:{'scikit-image' if photo.package == 'skimage' else 'scikit-learn'}",
                 version, f"{photo.package}/{photo.relative}", photo.licence, photo.copyright, sha256_of(path))
    for folder in extra:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            rgb = load_rgb(path)
            if min(rgb.shape[:2]) < MIN_SIDE:
                skipped.append((str(path), "too small"))
                continue
            caption_file = path.with_suffix(".txt")
            caption = caption_file.read_text(encoding="utf-8").strip() if caption_file.is_file() else ""
            ident = "user-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", str(path.relative_to(folder).with_suffix("")))
            keep(ident, rgb, f"folder:{folder}", "", str(path), extra_licence, "", sha256_of(path), caption, user=True)

    write_listing(out, records)
    (out / "skipped.json").write_text(json.dumps(dict(skipped), indent=1, sort_keys=True))
    for ident, reason in skipped:
        log(f"  skipped {ident}: {reason}")
    counts = {split: sum(r.split == split for r in records) for split in ("train", "val")}
    log(f"{len(records)} photographs in {out} ({counts['train']} train, {counts['val']} val); "
        f"{len(skipped)} images skipped")
    return records


def write_listing(out: Path, records: list[PhotoRecord]) -> None:
    names = [f.name for f in fields(PhotoRecord)]
    with open(out / "files.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for record in records:
            writer.writerow(asdict(record))


def read_listing(folder: Path, split: str | None = None) -> list[PhotoRecord]:
    """Records of ``files.csv`` in ``folder`` (one split, or all)."""
    listing = folder / "files.csv"
    if not listing.is_file():
        raise FileNotFoundError(f"{listing} is missing; run `python -m models.data prepare --out {folder}` first.")
    with open(listing, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    records = [PhotoRecord(**{**row, "width": int(row["width"]), "height": int(row["height"])}) for row in rows]
    return [r for r in records if split is None or r.split == split]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build the training photo folder")
    prep.add_argument("--out", type=Path, default=Path("data/photos"))
    prep.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "restorer-train")
    prep.add_argument("--extra", type=Path, action="append", default=[],
                      help="a folder of your own photos (captions optional in photo.txt beside photo.jpg)")
    prep.add_argument("--extra-licence", default="user-supplied", help="licence recorded for --extra photos")
    prep.add_argument("--sources", default=",".join(SOURCES),
                      help="comma-separated, of: wallpapers (three Debian wallpaper packages), bundled "
                           "(scikit-image/scikit-learn photos), more (photos in other Debian packages); "
                           "'wallpapers,bundled' rebuilds the first 43-photo set")
    prep.add_argument("--no-debs", action="store_true", help="skip every Debian package")
    prep.add_argument("--no-bundled", action="store_true", help="skip the scikit-image/scikit-learn photos")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        chosen = {name.strip() for name in args.sources.split(",") if name.strip()}
        if chosen - set(SOURCES):
            parser.error(f"unknown --sources {', '.join(sorted(chosen - set(SOURCES)))}; "
                         f"choose from {', '.join(SOURCES)}")
        prepare(args.out, args.cache, args.extra, args.extra_licence,
                use_debs="wallpapers" in chosen and not args.no_debs,
                use_bundled="bundled" in chosen and not args.no_bundled,
                use_more="more" in chosen and not args.no_debs)


if __name__ == "__main__":
    main(sys.argv[1:])
