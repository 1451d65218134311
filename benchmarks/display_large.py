"""How the window copes with a 60 MP 16-bit scan: opening it, repainting it, painting on it.

Writes a 9000x6700 16-bit RGB TIFF (the large-scan benchmark's scan), opens it in a real
(offscreen, software-rendered) main window and reports:
- open: time until the photo is shown (decode + display buffers), and RSS afterwards;
- repaint: median time of one full repaint of the canvas at fit-to-window, 25 %, 100 %;
- stroke: median time of one brush-stroke segment plus the repaint it causes, zoomed to fit
  (the zoom a restorer paints long scratches at) and at 100 %;
- fill: the window's memory through a fill of the long-scratch mask (60 scratches right across
  the scan and 3 round losses, 6.7 %: a fill whose box is the whole scan), its review, Accept,
  a second fill of the same kind and Undo (``--method``, Telea by default: the memory is the
  window's, whatever the method).
Prints a Markdown table.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/display_large.py [--width 9000 --height 6700] [--method telea]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_scan import make_scan  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def repaint_seconds(view, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        view.viewport().repaint()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def stroke_seconds(window, app, centre: tuple[float, float], repeats: int = 15) -> float:
    """One segment of a brush stroke (mask write + the repaint of its box)."""
    view = window.canvas
    x, y = centre
    window.editor.begin_stroke(x, y, 24, erase=False)
    app.processEvents()
    times = []
    for step in range(1, repeats + 1):
        started = time.perf_counter()
        window.editor.continue_stroke(x + 6 * step, y + 2 * step)
        view.viewport().repaint()
        times.append(time.perf_counter() - started)
    window.editor.end_stroke()
    app.processEvents()
    return statistics.median(times)


def fill_and_wait(window, app) -> float:
    """Fill the document's mask in the background worker; seconds until the result is shown."""
    done = []
    window.fill_done.connect(lambda *args: done.append(True))
    started = time.perf_counter()
    assert window.fill(), "the fill did not start"
    while not done:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    return time.perf_counter() - started


def settle(window, app) -> None:
    """Until an autosave in progress has been written (it builds each step's box image)."""
    app.processEvents()
    while window.autosaver.busy:
        app.processEvents()
        time.sleep(0.01)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=9000)
    parser.add_argument("--height", type=int, default=6700)
    parser.add_argument("--method", default="telea", help="the fill's method (telea, ns, auto or a model id)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RESTORER_DATA_DIR"] = tmp
        from restorer_app.engine.image_write import save_image
        from restorer_app.engine.imageio import ImageInfo, RasterImage
        from restorer_app.gui.app import make_application
        from restorer_app.gui.main_window import MainWindow

        scan, _ = make_scan(args.height, args.width)
        path = Path(tmp) / "scan.tif"
        save_image(RasterImage(scan, ImageInfo("TIFF", 16)), path)
        del scan
        app = make_application(sys.argv[:1])
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(1400, 900)
        window.show()
        app.processEvents()
        before = rss_mb()
        started = time.perf_counter()
        assert window.open_path(path)
        app.processEvents()
        opened = time.perf_counter() - started
        after_open = rss_mb()
        view = window.canvas
        centre = (args.width / 2, args.height / 2)
        rows = [("open (decode + display)", f"{opened:.2f} s", f"RSS {after_open:.0f} MB (+{after_open - before:.0f})")]
        view.fit()
        app.processEvents()
        rows.append((f"repaint at fit ({100 * view.zoom:.0f} %)", f"{1000 * repaint_seconds(view):.0f} ms", ""))
        rows.append(("brush segment at fit", f"{1000 * stroke_seconds(window, app, centre):.0f} ms", ""))
        for zoom in (0.25, 1.0):
            view.set_zoom(zoom)
            view.centerOn(*centre)
            app.processEvents()
            rows.append((f"repaint at {100 * zoom:.0f} %", f"{1000 * repaint_seconds(view):.0f} ms", ""))
        rows.append(("brush segment at 100 %", f"{1000 * stroke_seconds(window, app, centre):.0f} ms",
                     f"peak RSS {peak_mb():.0f} MB"))
        _, mask = make_scan(args.height, args.width, "long-scratches")
        document = window.editor.document
        window.editor.mark(mask, "Mark the scratches")
        del mask
        assert window.panel.select_method(args.method), f"no method {args.method!r}"
        start_rss = rss_mb()
        seconds = fill_and_wait(window, app)
        rows.append((f"fill of the long-scratch mask ({args.method}), shown for review", f"{seconds:.1f} s",
                     f"RSS {rss_mb():.0f} MB (+{rss_mb() - before:.0f}), peak {peak_mb():.0f} MB"))
        window.actions_.accept.trigger()
        settle(window, app)
        rows.append(("Accept (and its autosave written)", "", f"RSS {rss_mb():.0f} MB (+{rss_mb() - before:.0f})"))
        _, mask = make_scan(args.height, args.width, "long-scratches")
        window.editor.mark(mask[:, ::-1].copy(), "Mark the scratches")
        del mask
        seconds = fill_and_wait(window, app)
        window.actions_.accept.trigger()
        settle(window, app)
        rows.append(("a second such fill, accepted", f"{seconds:.1f} s",
                     f"RSS {rss_mb():.0f} MB (+{rss_mb() - before:.0f}), peak {peak_mb():.0f} MB"))
        window.actions_.undo.trigger()
        settle(window, app)
        rows.append(("Undo", "", f"RSS {rss_mb():.0f} MB (+{rss_mb() - before:.0f}); "
                                 f"{rss_mb() - start_rss:+.0f} MB since the mask was painted"))
        print(f"Scan: {args.width}x{args.height} 16-bit RGB TIFF, window 1400x900 (offscreen, software rendering)\n")
        print("| step | time | memory |")
        print("|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        window.editor.document.mark_saved()  # close without the unsaved-changes question
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
