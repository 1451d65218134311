"""Check the Windows installer script here on Linux: ``python packaging/check_nsis.py BUILD_DIR``.

The Windows build itself cannot be made on Linux, so the script is checked against the Linux
one-folder build: every file it names under $INSTDIR must be in the build (``.exe`` names
mapped to the Linux executables), and where NSIS's ``makensis`` is installed (Debian package
``nsis``) the script is compiled for real, into an installer that is thrown away. Without
makensis only the first check runs, and this says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "windows" / "restorer.nsi"
NAMED = re.compile(r'\$INSTDIR\\([^"\',$]+?\.exe)')


def named_files(script: str) -> set[str]:
    """Files of the build the script refers to (not the uninstaller it writes itself)."""
    return {name for name in NAMED.findall(script) if not name.startswith("Uninstall ")}


def check(build: Path) -> list[str]:
    """What is wrong (an empty list: nothing)."""
    problems = []
    text = SCRIPT.read_text(encoding="utf-8")
    for name in sorted(named_files(text)):
        if not (build / name).exists() and not (build / name.removesuffix(".exe")).exists():
            problems.append(f"{SCRIPT.name} names {name}, which is not in {build}")
    if "RequestExecutionLevel user" not in text:
        problems.append("the installer must install per user, without administrator rights")
    for needed in ("WriteUninstaller", "CreateShortCut", "Software\\Classes\\.restorer"):
        if needed not in text:
            problems.append(f"{SCRIPT.name} has no {needed}")
    return problems


def compile_script(build: Path, version: str = "0.0.0") -> str | None:
    """Compile the script against a copy of ``build`` with the executables named as on Windows;
    None when makensis is not installed, else makensis's last line."""
    makensis = shutil.which("makensis")
    if makensis is None:
        return None
    with tempfile.TemporaryDirectory(prefix="restorer-nsis-") as temporary:
        staged = Path(temporary) / "restorer"
        staged.mkdir()
        for name in ("restorer", "restorer-gui"):
            shutil.copy(build / name, staged / f"{name}.exe")
        (staged / "_internal").symlink_to(build / "_internal")  # the rest as it is: only the names matter
        out = Path(temporary) / "setup.exe"
        done = subprocess.run([makensis, "-V2", f"-DBUILD_DIR={staged}", f"-DVERSION={version}",
                               f"-DOUTFILE={out}", str(SCRIPT)], capture_output=True, text=True)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"makensis failed:\n{done.stdout}\n{done.stderr}")
        return f"compiled ({out.stat().st_size / 2**20:.0f} MiB installer)"


def main(argv: list[str]) -> int:
    build = Path(argv[0]) if argv else HERE.parent / "build" / "pyi-cpu" / "restorer"
    problems = check(build)
    for problem in problems:
        print(f"restorer.nsi: {problem}")
    if problems:
        return 1
    compiled = compile_script(build)
    print(f"restorer.nsi: names only files of the build; {compiled or 'makensis is not installed: not compiled'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
