"""The installers, built and smoke-tested (packaging/build.py, packaging/smoke_test.py).

The CPU variant's tarball and .deb are built once (``make dist``'s build; again only when a file
of the app, its resources or its packaging is newer than them) and every check of
packaging/smoke_test.py runs on each: a clean environment, no network where the kernel allows,
version, models, a fill equal to the source tree's, the GUI starting and quitting, no telemetry,
no CUDA library. The Windows installer script is checked against the Linux build, and compiled
where NSIS's makensis is installed. ``RESTORER_SKIP_PACKAGING=1`` leaves all of this out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

import check_nsis  # noqa: E402
import smoke_test  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("RESTORER_SKIP_PACKAGING") == "1" or sys.platform != "linux",
                                reason="packaging checks left out (RESTORER_SKIP_PACKAGING=1, or not Linux)")
SOURCES = ("restorer_app", "resources", "packaging", "pyproject.toml")


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        newest = max([newest, *(p.stat().st_mtime for p in paths)])
    return newest


@pytest.fixture(scope="module")
def packages() -> dict[str, Path]:
    dist = ROOT / "dist"
    found = {"tarball": sorted(dist.glob("restorer-*-linux-*-cpu.tar.gz")),
             "deb": sorted(dist.glob("restorer_*.deb")) if shutil.which("dpkg-deb") else []}
    built = all(found.values()) if shutil.which("dpkg-deb") else bool(found["tarball"])
    if not built or min(p.stat().st_mtime for paths in found.values() for p in paths) < _newest_source():
        done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "cpu"], cwd=ROOT,
                              capture_output=True, text=True, timeout=3600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        found = {"tarball": sorted(dist.glob("restorer-*-linux-*-cpu.tar.gz")),
                 "deb": sorted(dist.glob("restorer_*.deb"))}
    return {kind: paths[-1] for kind, paths in found.items() if paths}


def test_the_tarball_runs_anywhere_offline_and_fills_like_the_source_tree(packages):
    measured = smoke_test.smoke(packages["tarball"], source_python=sys.executable, live=True, log=lambda _: None)
    assert measured["variant"] == "cpu"


def test_the_deb_installs_its_files_and_runs_from_them(packages):
    if "deb" not in packages:
        pytest.skip("dpkg-deb is not installed: no .deb is built here")
    smoke_test.smoke(packages["deb"], source_python=sys.executable, live=False, log=lambda _: None)


def test_the_windows_installer_script_names_only_files_of_the_build(packages):
    build = ROOT / "build" / "pyi-cpu" / "restorer"
    assert check_nsis.check(build) == []
    if shutil.which("makensis"):
        assert check_nsis.compile_script(build).startswith("compiled")
