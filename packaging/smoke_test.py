"""Smoke test of a built Restorer: ``python packaging/smoke_test.py dist/restorer-*.tar.gz`` (or a
``.deb``). tests/test_packaging.py runs it in ``make test``.

The package is unpacked into an empty folder (a ``.deb`` with ``dpkg -x``, as into a temporary
root) and every command runs with a clean environment (``env -i``: a fresh HOME, a PATH of the
system's folders only, so no ``.venv``), and, where the kernel lets us, with no network at all
(``unshare -n``). Checked:

- ``restorer --version`` and ``restorer models`` (every model in the bundled manifest is there
  and usable);
- a fill of the bundled sample equals the same fill from the source tree, pixel for pixel;
- ``restorer batch --workers 2`` runs the sample on a local Dask cluster (over 127.0.0.1, so
  with the network as it is) and gives ``restorer inpaint``'s pixels;
- ``restorer-gui`` starts offscreen with the sample open and quits cleanly;
- a GUI session that lives 42 s (long enough for ONNX Runtime's telemetry client to report, were
  it on) leaves no telemetry store and, under strace where it is installed, opens no internet
  socket;
- the CPU variant carries no CUDA library;
- the LICENSE, and a ``.deb``'s control fields, its /usr/bin links, desktop entry, MIME type,
  metainfo and copyright file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TELEMETRY_STORE = Path(".cache") / "Microsoft" / "DeveloperTools" / ".onnxruntime"
CUDA_LIBRARIES = re.compile(r"(onnxruntime_providers_cuda|onnxruntime_providers_tensorrt|libcudart|libcudnn|libcublas"
                            r"|libcufft|libcurand|libnvrtc)")
INTERNET_SOCKET = re.compile(r"\b(socket|connect|sendto|sendmsg)\(.*\bAF_INET6?\b")
LIVE_S = 42


class SmokeFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def unpack(package: Path, into: Path) -> Path:
    """The folder holding ``restorer`` and ``restorer-gui`` once ``package`` is unpacked."""
    if package.suffix == ".deb":
        subprocess.run(["dpkg", "-x", str(package), str(into)], check=True)
        return into / "opt" / "restorer"
    with tarfile.open(package) as archive:
        archive.extractall(into, filter="tar")
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


def network_off() -> list[str]:
    """The command prefix that runs a program without any network, or [] where none works here."""
    for prefix in (["unshare", "-n", "--"], ["unshare", "-rn", "--"]):
        if shutil.which(prefix[0]) and subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix
    return []


class Sandbox:
    """Runs the package's programs with ``env -i``, a fresh HOME and (where possible) no network."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.folder, self.home = folder, home
        home.mkdir(parents=True, exist_ok=True)
        self.prefix = network_off()
        self.env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "QT_QPA_PLATFORM=offscreen",
                    f"XDG_RUNTIME_DIR={home}/run", f"TMPDIR={home}/tmp"]
        (home / "run").mkdir(mode=0o700, exist_ok=True)
        (home / "tmp").mkdir(exist_ok=True)

    def run(self, program: str, *args, timeout: int = 300, trace: Path | None = None,
            loopback: bool = False) -> subprocess.CompletedProcess:
        """``loopback``: with this machine's network as it is (a Dask LocalCluster talks over
        127.0.0.1, which a fresh network namespace has down)."""
        prefix = [] if loopback else self.prefix
        command = [*prefix, *self.env, str(self.folder / program), *map(str, args)]
        if trace is not None:
            command = ["strace", "-f", "-qq", "-e", "trace=network", "-o", str(trace), *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def smoke(package: Path, *, source_python: str | None = None, live: bool = True, log=print) -> dict:
    """Every check on ``package``; raises SmokeFailure with what failed. Returns what was measured."""
    measured: dict = {"package": package.name, "network_off": None}
    with tempfile.TemporaryDirectory(prefix="restorer-smoke-") as temporary:
        work = Path(temporary)
        folder = unpack(package, work / "unpacked")
        box = Sandbox(folder, work / "home")
        measured["network_off"] = " ".join(box.prefix) or "unavailable (no unshare permission here)"
        variant = (folder / "VARIANT").read_text().strip() if (folder / "VARIANT").exists() else "?"
        check((folder / "LICENSE").is_file() and "Apache License" in (folder / "LICENSE").read_text(),
              "the package carries no LICENSE")
        measured["variant"] = variant

        done = box.run("restorer", "--version")
        check(done.returncode == 0 and done.stdout.startswith("restorer "), f"restorer --version: {done.stderr}")
        log(f"  {done.stdout.strip()}")

        done = box.run("restorer", "models")
        check(done.returncode == 0, f"restorer models failed: {done.stderr}")
        manifest = json.loads((ROOT / "resources" / "models" / "manifest.json").read_text())
        ids = [model["id"] for model in manifest.get("models", manifest if isinstance(manifest, list) else [])]
        for model_id in ids:
            line = next((l for l in done.stdout.splitlines() if model_id in l), "")
            check(bool(line) and "unavailable" not in line.lower() and "damaged" not in line.lower(),
                  f"model {model_id} is not available in the build:\n{done.stdout}")
        log(f"  restorer models: {len(ids)} bundled models available")

        samples = folder / "_internal" / "restorer_app" / "resources" / "samples"
        sample, mask = samples / "damaged_portrait.jpg", samples / "damaged_portrait_mask.png"
        check(sample.is_file() and mask.is_file(), f"the bundled sample is missing from {samples}")
        out = box.home / "filled.png"
        done = box.run("restorer", "inpaint", sample, "--mask", mask, "-o", out)
        check(done.returncode == 0 and out.is_file(), f"the fill of the sample failed: {done.stderr}")
        if source_python:
            reference = work / "reference.png"
            subprocess.run([source_python, "-m", "restorer_app.cli", "inpaint", str(ROOT / "resources" / "samples" /
                            "damaged_portrait.jpg"), "--mask", str(ROOT / "resources" / "samples" /
                            "damaged_portrait_mask.png"), "-o", str(reference)], check=True, capture_output=True,
                           env=dict(os.environ, RESTORER_MODEL_PATH=""), cwd=ROOT)
            check(_pixels(out) == _pixels(reference), "the build's fill of the sample differs from the source tree's")
            log("  the fill of the sample equals the source tree's, pixel for pixel")

        # The cluster batch: Dask is bundled and its worker processes start from the frozen program.
        photos, masks_dir, out_dir = box.home / "batch-in", box.home / "batch-masks", box.home / "batch-out"
        photos.mkdir()
        masks_dir.mkdir()
        shutil.copy(sample, photos / sample.name)
        shutil.copy(mask, masks_dir / f"{sample.stem}_mask.png")
        done = box.run("restorer", "batch", photos, "--out-dir", out_dir, "--op", "inpaint", "--mask-dir", masks_dir,
                       "--workers", "2", timeout=300, loopback=True)
        check(done.returncode == 0 and "1 done" in done.stdout, f"the batch on 2 workers failed: {done.stderr}")
        lines = [json.loads(line) for line in (out_dir / "restorer-results.jsonl").read_text().splitlines()]
        check(len(lines) == 1 and lines[0]["worker"].startswith("tcp://127.0.0.1:"),
              f"the batch did not run on a local cluster: {lines} {done.stderr}")
        alone = box.home / f"alone{sample.suffix}"  # the batch keeps the name, so the format: JPEG
        done = box.run("restorer", "inpaint", sample, "--mask", mask, "-o", alone)
        check(done.returncode == 0 and _pixels(out_dir / sample.name) == _pixels(alone),
              f"the cluster batch's fill differs from restorer inpaint's: {done.stderr}")
        log("  restorer batch --workers 2 ran on a local Dask cluster, with restorer inpaint's pixels")

        done = box.run("restorer-gui", sample, "--mask", mask, "--self-test-quit", timeout=120)
        check(done.returncode == 0, f"restorer-gui did not start and quit cleanly: {done.stderr}")
        log("  restorer-gui started offscreen with the sample and quit")

        if live:
            script = box.home / "live.txt"
            script.write_text(f"open {sample}\nwait {LIVE_S}\nquit\n")
            trace = work / "gui.strace" if shutil.which("strace") else None
            done = box.run("restorer-gui", "--test-script", script, timeout=LIVE_S + 120, trace=trace)
            check(done.returncode == 0, f"the {LIVE_S} s GUI session failed: {done.stderr}")
            check(not (box.home / TELEMETRY_STORE).exists(), "the frozen app left an ONNX Runtime telemetry store")
            if trace is not None:
                sockets = [l for l in trace.read_text(errors="replace").splitlines() if INTERNET_SOCKET.search(l)]
                check(not sockets, "the frozen app opened internet sockets:\n" + "\n".join(sockets[:5]))
                measured["strace"] = "no internet socket"
            log(f"  a {LIVE_S} s GUI session left no telemetry store"
                + (" and opened no internet socket" if trace is not None else " (strace not installed)"))

        if variant == "cpu":
            carried = [p.name for p in folder.rglob("*") if CUDA_LIBRARIES.search(p.name)]
            check(not carried, f"the CPU variant carries CUDA libraries: {carried[:5]}")
            log("  no CUDA library in the CPU variant")
        if package.suffix == ".deb":
            _check_deb(package, work / "unpacked", log)
        measured["installed_mib"] = round(sum(p.stat().st_size for p in folder.rglob("*")
                                              if p.is_file() and not p.is_symlink()) / 2**20)
    return measured


def _check_deb(package: Path, root: Path, log) -> None:
    info = subprocess.run(["dpkg-deb", "-f", str(package)], capture_output=True, text=True, check=True).stdout
    for field in ("Package", "Version", "Architecture", "Depends", "Installed-Size"):
        check(f"{field}:" in info, f"the .deb has no {field} field")
    check("libxcb-cursor0" in info, "the .deb does not depend on Qt's xcb libraries")
    for command in ("restorer", "restorer-gui"):
        link = root / "usr" / "bin" / command
        check(link.is_symlink() and os.readlink(link) == f"/opt/restorer/{command}", f"/usr/bin/{command} is not a link")
    desktop = root / "usr" / "share" / "applications" / "org.restorer.Restorer.desktop"
    check(desktop.is_file() and "application/x-restorer-project" in desktop.read_text(), "no desktop entry")
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        check(done.returncode == 0, f"the desktop entry is not valid: {done.stdout}{done.stderr}")
    mime = root / "usr" / "share" / "mime" / "packages" / "org.restorer.Restorer.xml"
    check(mime.is_file() and "*.restorer" in mime.read_text(), "no MIME type for .restorer projects")
    check((root / "usr" / "share" / "metainfo" / "org.restorer.Restorer.metainfo.xml").is_file(), "no metainfo")
    check(any((root / "usr" / "share" / "icons" / "hicolor").rglob("org.restorer.Restorer.*")), "no icon")
    name = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Package:"))
    copyright_file = root / "usr" / "share" / "doc" / name / "copyright"
    check(copyright_file.is_file() and "Apache License" in copyright_file.read_text(), "no copyright file")
    log("  .deb: control fields, /usr/bin links, desktop entry, MIME type, metainfo, icon and copyright")


def _pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        return image.tobytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test a built Restorer package.")
    parser.add_argument("packages", nargs="+", type=Path)
    parser.add_argument("--source-python", default=sys.executable,
                        help="the Python of the source tree, for the bit-for-bit comparison")
    parser.add_argument("--quick", action="store_true", help=f"leave out the {LIVE_S} s telemetry session")
    args = parser.parse_args(argv)
    for package in args.packages:
        print(package)
        try:
            measured = smoke(package, source_python=args.source_python, live=not args.quick)
        except SmokeFailure as failure:
            print(f"FAILED: {failure}")
            return 1
        print(f"  passed ({measured})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
