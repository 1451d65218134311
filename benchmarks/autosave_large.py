"""How much an autosave costs the window on a 6000x4000 scan.

Opens a 24-megapixel photo in a real (offscreen) main window, paints scratches (brush
strokes) all across it and accepts Telea fills, then autosaves several times and reports:
- snapshot: time the GUI thread spends (copying the mask, collecting the fills);
- write: time until the background thread has the file on disk (encode + fsync + rename);
- longest GUI stall: the largest gap between 1 ms timer ticks while the write ran (the
  same measured over an idle second is the baseline);
- size of the session file.
Prints a Markdown table.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/autosave_large.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

HEIGHT, WIDTH = 4000, 6000


def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (HEIGHT // 16 + 1, WIDTH // 16 + 1, 3), dtype=np.uint8)
    return cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)


def paint_scratches(window, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(count):
        x, y = rng.uniform(200, WIDTH - 200), rng.uniform(200, HEIGHT - 200)
        window.editor.begin_stroke(x, y, 12, erase=False)
        for step in range(1, 20):
            window.editor.continue_stroke(x + step * 25, y + step * rng.normal(0, 4))
        window.editor.end_stroke()


def wait(signal, app, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


class StallMeter:
    """The longest gap between ticks of a 1 ms timer: how long the event loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last)
        self._last = now

    def start(self) -> None:
        self.worst, self._last = 0.0, time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.worst


def settle(app) -> None:
    """Let pending repaints of the painted strokes happen before measuring."""
    for _ in range(20):
        app.processEvents()


def idle_stall(app) -> float:
    settle(app)
    meter = StallMeter()
    meter.start()
    loop = QEventLoop()
    QTimer.singleShot(1000, loop.quit)
    loop.exec()
    return meter.stop()


def measure(window, app, repeats: int) -> dict:
    saver = window.autosaver
    snapshots, writes, stalls = [], [], []
    meter = StallMeter()
    for _ in range(repeats):
        settle(app)
        saver.dirty = True
        started = time.perf_counter()
        saver._write_if_due()
        snapshots.append(time.perf_counter() - started)
        meter.start()
        wait(saver.saved, app)
        writes.append(time.perf_counter() - started)
        stalls.append(meter.stop())
    return {"snapshot": statistics.median(snapshots), "write": statistics.median(writes),
            "stall": max(stalls), "size": saver.path.stat().st_size, "coverage": window.editor.coverage}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RESTORER_DATA_DIR"] = tmp
        from restorer_app.gui.app import make_application
        from restorer_app.gui.main_window import MainWindow

        app = make_application(sys.argv[:1])
        path = Path(tmp) / "scan.png"
        Image.fromarray(photo()).save(path, compress_level=1)
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        window.show()
        assert window.open_path(path)
        window.panel.select_method("telea")
        rows = []
        baseline = idle_stall(app)
        paint_scratches(window, 100, seed=1)
        rows.append(("mask only", measure(window, app, args.repeats)))
        for fill in range(3):
            if fill:
                paint_scratches(window, 100, seed=fill + 1)
            window.fill()
            wait(window.fill_done, app)
            window.accept_fill()
        paint_scratches(window, 40, seed=9)
        rows.append(("3 accepted fills (each over scratches across the whole scan) + new strokes",
                     measure(window, app, args.repeats)))
        started = time.perf_counter()
        window.save_project(Path(tmp) / "work.restorer")
        save_project_s = time.perf_counter() - started
        window.editor.mark_saved()
        window.close()

    print(f"Autosave of a {WIDTH}x{HEIGHT} RGB scan (median of {args.repeats}; stall = worst)\n")
    print("| session | mask marked | GUI-thread snapshot | background write | longest GUI stall | file |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['coverage']:.1%} | {r['snapshot'] * 1000:.1f} ms | {r['write'] * 1000:.0f} ms | "
              f"{r['stall'] * 1000:.1f} ms | {r['size'] / 1e6:.2f} MB |")
    print(f"\nLongest GUI stall over an idle second (baseline): {baseline * 1000:.1f} ms")
    print(f"File ▸ Save Project (on the GUI thread, same state, steps already built): {save_project_s * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
