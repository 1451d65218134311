"""150 dust specks on a 3000x2000 photo, healed in the window (offscreen).

* ``spot heal`` - the Spot Healing Brush: a click on each speck, one after another without
  waiting (each is queued and healed in the background, accepted as one undo step);
* ``paint, Fill, Accept`` - the brush on one speck, Fill, wait, Accept, for every speck.

Prints the wall time from the first click until the last speck is healed, per speck, and how
many specks were left unhealed (their dark centre still there).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/spot_heal.py [--specks 150] [--method auto] [--only heal|fill]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_photo(folder: Path, specks: int) -> tuple[Path, list[tuple[int, int]]]:
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:2000, 0:3000].astype(np.float32)
    photo = np.stack([0.5 + 0.3 * np.sin(xx / 90 + c) * np.cos(yy / 70 - c) for c in range(3)], axis=2)
    photo += rng.normal(0, 0.02, photo.shape).astype(np.float32)
    photo = np.clip(photo * 255, 0, 255).astype(np.uint8)
    spots = [(int(rng.integers(40, 2960)), int(rng.integers(40, 1960))) for _ in range(specks)]
    for x, y in spots:
        cv2.circle(photo, (x, y), int(rng.integers(2, 6)), (20, 20, 20), -1)
    path = folder / "specks.png"
    cv2.imwrite(str(path), photo)
    return path, spots


def run(method: str, specks: int, mode: str) -> tuple[float, int]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from restorer_app.gui import dialogs
    from restorer_app.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    dialogs.set_headless(True)  # quitting asks nothing
    with tempfile.TemporaryDirectory() as tmp:
        path, spots = make_photo(Path(tmp), specks)
        window = MainWindow(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window.show()
        assert window.open_path(path)
        assert window.panel.select_method(method)
        window.panel.set_brush_size(16)
        started = time.perf_counter()
        if mode == "heal":
            window.actions_.heal.trigger()
            for x, y in spots:
                window._begin_stroke(x, y)
                window._end_stroke()
                app.processEvents()
            while window.healing.busy or window.fills.running:
                app.processEvents()
                time.sleep(0.002)
        else:
            for x, y in spots:
                window._begin_stroke(x, y)
                window._end_stroke()
                window.fill()
                while window.fills.running:
                    app.processEvents()
                    time.sleep(0.002)
                app.processEvents()
                window.accept_fill()
        seconds = time.perf_counter() - started
        pixels = window.editor.document.image.pixels
        left = sum(int(pixels[y, x].max() < 40) for x, y in spots)
        window.close()
    return seconds, left


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--specks", type=int, default=150)
    parser.add_argument("--method", default="auto")
    parser.add_argument("--only", choices=("heal", "fill"), help="time one way only")
    args = parser.parse_args()
    print(f"| way | {args.specks} specks on 3000x2000 | per speck | specks left |")
    print("|---|---|---|---|")
    for mode, label in (("heal", "spot heal (click, click, ...)"), ("fill", "paint, Fill, Accept")):
        if args.only and mode != args.only:
            continue
        seconds, left = run(args.method, args.specks, mode)
        print(f"| {label} | {seconds:.1f} s | {1000 * seconds / args.specks:.0f} ms | {left} |")


if __name__ == "__main__":
    main()
