"""Build Restorer's installers: ``python packaging/build.py [cpu|cuda ...] [--no-deb] [--no-tarball]``
(``make dist`` builds the CPU variant's tarball and .deb into ``dist/``).

For each variant: a fresh virtual environment under ``build/venv-VARIANT`` with the app, its
dependencies (ONNX Runtime for CPU, ONNX Runtime GPU for CUDA) and PyInstaller; the icons
rendered from ``packaging/restorer.svg``; the one-folder build from ``packaging/restorer.spec``
in ``build/pyi-VARIANT/restorer``; then the portable ``.tar.gz`` and the ``.deb``. A variant
whose environment is already there is not installed again (delete ``build/`` to start over).

The CUDA variant bundles ONNX Runtime's CUDA provider (285 MB) but not CUDA and cuDNN
themselves: they are found on the system (the CUDA 13 and cuDNN 9 runtimes onnxruntime-gpu is
built for), and the app says at start, in the notice bar and the status bar, when they are not
there and it runs on the CPU. Bundling NVIDIA's runtime wheels as well would put several hundred
MB more into every download, for users who mostly have them installed with their driver
already (packaging/README.md).

Each run writes ``dist/BUILD-INFO.txt``: the times and sizes it measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
DIST = ROOT / "dist"
PYINSTALLER = "pyinstaller==6.22.3"
ONNXRUNTIME = {"cpu": "onnxruntime>=1.18", "cuda": "onnxruntime-gpu>=1.18"}
PACKAGE = "restorer"
#: Qt's xcb platform plugin needs these system libraries (PySide6's wheels do not carry them).
DEB_DEPENDS = ["libc6 (>= 2.31)", "libgl1", "libegl1", "libfontconfig1", "libxkbcommon0", "libxkbcommon-x11-0",
               "libdbus-1-3", "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0",
               "libxcb-xinerama0", "libxcb-randr0", "libxcb-render-util0", "libxcb-image0", "libx11-xcb1",
               "libglib2.0-0"]


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run(command, check=True, **kwargs)


def environment(variant: str) -> Path:
    """The variant's build environment (made once), returning its python."""
    venv = BUILD / f"venv-{variant}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / ".restorer-build"
    wanted = (ROOT / "pyproject.toml").read_text() + PYINSTALLER + ONNXRUNTIME[variant]
    if stamp.is_file() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # The installers carry the cluster extra, so restorer batch --workers works out of the box.
    dependencies = [d for d in project["dependencies"] + project["optional-dependencies"]["cluster"]
                    if not d.startswith("onnxruntime")]
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "--quiet", PYINSTALLER, ONNXRUNTIME[variant], *dependencies])
    # The app itself without its declared onnxruntime (the variant chose which one).
    run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(ROOT)])
    stamp.write_text(wanted)
    return python


def freeze(variant: str, python: Path) -> Path:
    """The one-folder build of the variant."""
    run([str(python), str(ROOT / "packaging" / "make_icons.py"), str(BUILD / "icons")])
    out = BUILD / f"pyi-{variant}"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, RESTORER_VARIANT=variant, QT_QPA_PLATFORM="offscreen")
    run([str(python), "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(out),
         "--workpath", str(BUILD / f"pyi-work-{variant}"), str(ROOT / "packaging" / "restorer.spec")], env=env)
    folder = out / PACKAGE
    (folder / "VARIANT").write_text(variant + "\n")
    shutil.copy(ROOT / "LICENSE", folder / "LICENSE")  # Restorer's own licence, Apache-2.0
    # Python's own library carries its debugging symbols (23 MB, 6 MB without); the wheels'
    # libraries are left alone (stripping numpy's repaired OpenBLAS breaks it).
    for library in (folder / "_internal").glob("libpython3*.so*"):
        if shutil.which("strip") and not library.is_symlink():
            run(["strip", "--strip-unneeded", str(library)])
    return folder


def arch() -> str:
    """Debian's name for this machine's architecture."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def tarball(folder: Path, variant: str) -> Path:
    """``dist/restorer-VERSION-linux-ARCH-VARIANT.tar.gz``: unpack anywhere, run ``restorer-VERSION/restorer-gui``."""
    DIST.mkdir(exist_ok=True)
    name = f"{PACKAGE}-{version()}"
    target = DIST / f"{name}-linux-{platform.machine().lower()}-{variant}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        archive.add(folder, arcname=name)
    return target


def deb(folder: Path, variant: str) -> Path:
    """``dist/restorer[-cuda]_VERSION_ARCH.deb``: /opt/restorer, /usr/bin links, desktop entry,
    icon, AppStream metainfo and the MIME type of projects."""
    name = PACKAGE if variant == "cpu" else f"{PACKAGE}-cuda"
    root = BUILD / f"deb-{variant}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(folder, root / "opt" / PACKAGE, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    for command in ("restorer", "restorer-gui"):
        (root / "usr" / "bin" / command).symlink_to(f"/opt/{PACKAGE}/{command}")
    linux = ROOT / "packaging" / "linux"
    share = root / "usr" / "share"
    for source, target in ((linux / "restorer.desktop", share / "applications" / "org.restorer.Restorer.desktop"),
                           (linux / "org.restorer.Restorer.metainfo.xml",
                            share / "metainfo" / "org.restorer.Restorer.metainfo.xml"),
                           (linux / "restorer-mime.xml", share / "mime" / "packages" / "org.restorer.Restorer.xml"),
                           (ROOT / "packaging" / "restorer.svg",
                            share / "icons" / "hicolor" / "scalable" / "apps" / "org.restorer.Restorer.svg"),
                           (BUILD / "icons" / "restorer.png",
                            share / "icons" / "hicolor" / "256x256" / "apps" / "org.restorer.Restorer.png"),
                           (ROOT / "LICENSE", share / "doc" / name / "copyright")):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control = root / "DEBIAN"
    control.mkdir()
    conflicts = f"{PACKAGE}-cuda" if variant == "cpu" else PACKAGE
    (control / "control").write_text(
        f"Package: {name}\nVersion: {version()}\nArchitecture: {arch()}\nMaintainer: Restorer <restorer@localhost>\n"
        f"Installed-Size: {size_kb}\nDepends: {', '.join(DEB_DEPENDS)}\nConflicts: {conflicts}\n"
        f"Section: graphics\nPriority: optional\n"
        "Description: repair damaged photographs offline\n"
        " Restorer finds scratches, dust and tears in scanned photographs, fills them with\n"
        " models that run on this computer, restores noise, blur and fading, and saves\n"
        " files that keep the scan's bit depth and colour profile and record every change.\n"
        " Nothing is ever sent to a server; every model is inside the package.\n"
        + (" This build uses an NVIDIA GPU through CUDA 13 and cuDNN 9 when the system has them.\n"
           if variant == "cuda" else ""))
    for script in ("postinst", "postrm"):
        path = control / script
        path.write_text("#!/bin/sh\nset -e\n"
                        "command -v update-mime-database >/dev/null 2>&1 && update-mime-database /usr/share/mime || true\n"
                        "command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q || true\n"
                        "command -v gtk-update-icon-cache >/dev/null 2>&1 && "
                        "gtk-update-icon-cache -q /usr/share/icons/hicolor || true\n")
        path.chmod(0o755)
    DIST.mkdir(exist_ok=True)
    target = DIST / f"{name}_{version()}_{arch()}.deb"
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(target)])
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=["cpu"], choices=["cpu", "cuda"])
    parser.add_argument("--no-deb", action="store_true", help="no .deb")
    parser.add_argument("--no-tarball", action="store_true", help="no tarball (the one-folder build only)")
    args = parser.parse_args(argv)
    for variant in args.variants:
        started = time.perf_counter()
        python = environment(variant)
        installed = time.perf_counter()
        folder = freeze(variant, python)
        frozen = time.perf_counter()
        outputs = [] if args.no_tarball else [tarball(folder, variant)]
        if not args.no_deb and shutil.which("dpkg-deb"):
            outputs.append(deb(folder, variant))
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
        lines = [f"{variant}: environment {installed - started:.0f} s, PyInstaller {frozen - installed:.0f} s, "
                 f"packages {time.perf_counter() - frozen:.0f} s; installed {size:.0f} MiB"]
        lines += [f"  {output.relative_to(ROOT)}  {output.stat().st_size / 2**20:.0f} MiB" for output in outputs]
        print("\n".join(lines))
        DIST.mkdir(exist_ok=True)
        with open(DIST / "BUILD-INFO.txt", "a", encoding="utf-8") as info:
            info.write(time.strftime("%Y-%m-%d %H:%M ") + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
