"""Render packaging/restorer.svg to the PNG the Linux desktop uses and the ICO Windows uses.

Run by packaging/build.py before PyInstaller (Qt's own SVG renderer, then Pillow for the ICO),
so no binary icon is kept in git.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent


def render(size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    QGuiApplication.instance() or QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(HERE / "restorer.svg")).render(painter)
    painter.end()
    return image


def main(out: Path) -> None:
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    render(256).save(str(out / "restorer.png"))
    Image.open(out / "restorer.png").save(out / "restorer.ico", sizes=[(16, 16), (32, 32), (48, 48), (256, 256)])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "windows")
