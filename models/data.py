"""Training photographs, prepared offline from packages that ship real photos.

``python -m models.data prepare --out data/photos`` downloads three Debian wallpaper packages
with ``apt-get download``, unpacks them with ``dpkg-deb -x`` into a cache folder, keeps only the
photographs, adds the colour photographs shipped inside scikit-image and scikit-learn (and any
``--extra`` folders of your own), shrinks every photo so its long side is at most 1024 pixels,
and writes ``files.csv`` listing each file with its split, source, original path and licence.

A fixed set of whole photos is kept aside for validation and never trained on: crops of a
training photo would leak its content into the score otherwise. The same list feeds the
model card, so every training and validation file is accounted for with its licence.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import json
import os
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
}

#: Whole photos kept aside for validation (spread over sources and subjects). ``astronaut``
#: is also the app's bundled damaged sample, so the model never trains on the demo photo.
VALIDATION = frozenset({
    "skimage-astronaut", "sklearn-china", "lomiri-picosdeeuropa_by_Aitzol_Berasategi",
    "mate-LadyBird", "plasma-EveningGlow", "plasma-Path",
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
        elif line[0] in " \t" and key:
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
            use_bundled: bool = True, log=print) -> list[PhotoRecord]:
    """Build the photo folder; returns the records written to ``files.csv``."""
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
    prep.add_argument("--no-debs", action="store_true", help="skip the Debian wallpaper packages")
    prep.add_argument("--no-bundled", action="store_true", help="skip the scikit-image/scikit-learn photos")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.out, args.cache, args.extra, args.extra_licence, not args.no_debs, not args.no_bundled)


if __name__ == "__main__":
    main(sys.argv[1:])
