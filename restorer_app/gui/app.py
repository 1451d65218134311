"""``restorer-gui [IMAGE | PROJECT] [--mask MASK]``: start the window, optionally with a photo
or a ``.restorer`` project open. At start it offers to restore work a crash left behind."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from restorer_app import __version__

from . import dialogs
from .main_window import MainWindow
from .project_flow import is_project_path
from .theme import apply_theme


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="restorer-gui", description="Repair damaged photographs.")
    parser.add_argument("image", nargs="?", type=Path, help="photograph or .restorer project to open")
    parser.add_argument("--mask", type=Path, help="mask image of the same size (white = fill)")
    parser.add_argument("--version", action="version", version=f"restorer-gui {__version__}")
    # For scripts and CI: build the window, open the files, then quit with status 0 if that worked.
    parser.add_argument("--self-test-quit", action="store_true", help=argparse.SUPPRESS)
    # For tests only: run scripted actions (see script_runner.py), print READY, keep running.
    parser.add_argument("--test-script", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_application(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Restorer")
    app.setOrganizationName("Restorer")
    app.setApplicationDisplayName("Restorer")
    app.setApplicationVersion(__version__)
    apply_theme(app)
    return app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.mask is not None and (args.image is None or is_project_path(args.image)):
        print("restorer-gui: --mask needs an IMAGE to go with it", file=sys.stderr)
        return 2
    app = make_application(sys.argv[:1])
    dialogs.install_excepthook()
    headless = args.self_test_quit or args.test_script is not None
    dialogs.set_headless(headless)
    window = MainWindow()
    window.show()
    # Restoring a crashed session takes the place of the file named on the command line.
    restored = not headless and window.offer_recovery()
    opened = True
    if args.image is not None and not restored:
        opened = window.open_path(args.image, args.mask)
    if args.self_test_quit:
        window.close()
        return 0 if opened else 1
    if args.test_script is not None:
        from .script_runner import ScriptRunner

        runner = ScriptRunner(window, args.test_script, app)
        QTimer.singleShot(0, runner.start)
    QTimer.singleShot(0, window.canvas.setFocus)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
