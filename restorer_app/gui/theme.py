"""A dark-neutral look: Fusion style, a grey palette that does not tint the photo, one accent.

Photo work needs neutral surroundings (a coloured UI shifts how colours are judged), so
everything is grey except the accent used for the primary action and selection.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from .icons import ACCENT

_WINDOW = QColor(45, 45, 48)
_BASE = QColor(32, 32, 34)
_TEXT = QColor(222, 224, 228)
_DIM = QColor(140, 142, 148)

STYLE_SHEET = f"""
QMainWindow::separator {{ background: rgb(30, 30, 32); width: 1px; height: 1px; }}
QDockWidget {{ titlebar-close-icon: none; }}
QDockWidget::title {{ padding: 6px 10px; background: rgb(40, 40, 43); }}
#toolPanel QLabel {{ color: rgb(200, 202, 206); }}
#panelHeading {{ color: rgb({_DIM.red()}, {_DIM.green()}, {_DIM.blue()}); font-weight: 600;
                 letter-spacing: 1px; font-size: 8.5pt; padding-top: 2px; }}
#stepHeading {{ color: white; font-weight: 600; font-size: 10.5pt; padding-bottom: 2px; }}
#panelSeparator {{ color: rgb(62, 62, 66); }}
QPushButton {{ padding: 5px 10px; border: 1px solid rgb(66, 66, 70); border-radius: 4px;
               background: rgb(56, 56, 60); min-height: 18px; }}
QPushButton:hover {{ background: rgb(66, 66, 71); }}
QPushButton:pressed, QPushButton:checked {{ background: rgb(35, 72, 122); border-color: rgb(70, 130, 210); }}
QPushButton:disabled {{ color: rgb(110, 112, 118); background: rgb(48, 48, 51); border-color: rgb(56, 56, 60); }}
QToolBar QToolButton {{ border: 1px solid transparent; border-radius: 4px; background: transparent; padding: 4px 6px; }}
QToolBar QToolButton:hover {{ background: rgb(62, 62, 67); border-color: rgb(72, 72, 77); }}
QToolBar QToolButton:checked {{ background: rgb(35, 72, 122); border-color: rgb(70, 130, 210); }}
QToolBar {{ spacing: 2px; padding: 3px 6px; border: none; border-bottom: 1px solid rgb(30, 30, 32); }}
#primaryButton {{ background: rgb({ACCENT.red()}, {ACCENT.green()}, {ACCENT.blue()}); color: white;
                  border: 1px solid rgb(60, 130, 230); font-weight: 600; }}
#primaryButton:hover {{ background: rgb(96, 168, 255); }}
#primaryButton:disabled {{ background: rgb(52, 62, 78); color: rgb(120, 130, 145); border-color: rgb(60, 70, 86); }}
#reviewBox {{ background: rgb(38, 52, 72); border: 1px solid rgb(60, 96, 140); border-radius: 6px; }}
#reviewTitle {{ font-weight: 600; color: white; }}
#hint {{ color: rgb(150, 152, 158); font-size: 8.5pt; }}
#noticeBar {{ background: rgb(92, 72, 28); border-bottom: 1px solid rgb(130, 100, 40); }}
#noticeBar QLabel {{ color: rgb(250, 236, 200); }}
#noticeBar QToolButton {{ border: none; background: transparent; color: rgb(250, 236, 200); }}
#statusField {{ color: rgb(190, 192, 196); padding: 0 8px; border-left: 1px solid rgb(64, 64, 68); }}
QStatusBar {{ background: rgb(38, 38, 41); border-top: 1px solid rgb(30, 30, 32); }}
QStatusBar::item {{ border: none; }}
QProgressBar {{ border: 1px solid rgb(66, 66, 70); border-radius: 3px; background: rgb(32, 32, 34);
                min-height: 8px; max-height: 8px; }}
QProgressBar::chunk {{ background: rgb({ACCENT.red()}, {ACCENT.green()}, {ACCENT.blue()}); border-radius: 2px; }}
QLineEdit {{ padding: 4px 6px; border: 1px solid rgb(70, 70, 75); border-radius: 4px; background: rgb(32, 32, 34); }}
QLineEdit:disabled {{ color: rgb(110, 112, 118); background: rgb(40, 40, 43); }}
QLineEdit:focus {{ border-color: rgb(70, 130, 210); }}
QScrollBar:vertical {{ background: rgb(38, 38, 40); width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: rgb(38, 38, 40); height: 10px; margin: 0; }}
QScrollBar::handle {{ background: rgb(78, 78, 84); border-radius: 4px; min-width: 24px; min-height: 24px; margin: 2px; }}
QScrollBar::handle:hover {{ background: rgb(98, 98, 105); }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QAbstractScrollArea::corner {{ background: rgb(38, 38, 40); }}
QMenu::item:disabled {{ color: rgb(110, 112, 118); }}
"""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: _WINDOW,
        QPalette.ColorRole.WindowText: _TEXT,
        QPalette.ColorRole.Base: _BASE,
        QPalette.ColorRole.AlternateBase: _WINDOW,
        QPalette.ColorRole.ToolTipBase: QColor(25, 25, 27),
        QPalette.ColorRole.ToolTipText: _TEXT,
        QPalette.ColorRole.PlaceholderText: _DIM,
        QPalette.ColorRole.Text: _TEXT,
        QPalette.ColorRole.Button: QColor(56, 56, 60),
        QPalette.ColorRole.ButtonText: _TEXT,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 112, 118))
    # A greyed slider (a strength on Auto) must not look like one the user set.
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(84, 86, 92))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
