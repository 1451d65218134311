"""Every modal question and error box in one place.

Errors reach the user only through :func:`show_error`: one sentence, never a traceback.
Keeping all modal dialogs here also lets tests replace them, so a test never blocks on a
dialog nobody will close.
"""

from __future__ import annotations

import enum
import sys
import traceback
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from restorer_app.engine.errors import RestorerError
from restorer_app.engine.imageio import image_file_filter


#: In headless runs (``--self-test-quit``) errors go to stderr and nothing waits for a click.
_headless = False


def set_headless(headless: bool) -> None:
    global _headless
    _headless = headless


class SaveChoice(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def error_sentence(error: BaseException) -> str:
    """What the user reads: the engine's own sentence, or a plain note for a bug."""
    if isinstance(error, RestorerError):
        return str(error)
    if isinstance(error, MemoryError):
        return "There is not enough memory for this operation; close other programs or work on a smaller image."
    detail = str(error) or type(error).__name__
    return (f"Something unexpected went wrong ({type(error).__name__}: {detail}). "
            "Your last action may not have completed; details were written to the terminal.")


def show_error(parent: QWidget | None, error: BaseException, title: str = "Restorer") -> None:
    if _headless:
        print(f"restorer-gui: {error_sentence(error)}", file=sys.stderr)
        return
    QMessageBox.warning(parent, title, error_sentence(error))


def ask_save_changes(parent: QWidget | None, name: str) -> SaveChoice:
    if _headless:
        return SaveChoice.DISCARD
    answer = QMessageBox.question(
        parent, "Unsaved repairs",
        f"'{name}' has accepted repairs that are not saved yet. Save them first?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return SaveChoice.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return SaveChoice.DISCARD
    return SaveChoice.CANCEL


def tell(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def _images_filter() -> str:
    return f"Images ({image_file_filter()});;All files (*)"


def choose_image_to_open(parent: QWidget | None, folder: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Photograph", folder, _images_filter())
    return Path(path) if path else None


def choose_save_path(parent: QWidget | None, suggested: Path) -> Path | None:
    # The file dialog itself asks before replacing an existing file.
    path, _ = QFileDialog.getSaveFileName(parent, "Save Restored Photograph As", str(suggested), _images_filter())
    return Path(path) if path else None


def choose_mask_to_open(parent: QWidget | None, folder: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Load Mask", folder, _images_filter())
    return Path(path) if path else None


def choose_mask_save_path(parent: QWidget | None, suggested: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Mask As", str(suggested), "PNG image (*.png)")
    if not path:
        return None
    chosen = Path(path)
    return chosen if chosen.suffix.lower() == ".png" else chosen.with_suffix(".png")


def install_excepthook() -> None:
    """Show unexpected errors in the error box instead of crashing or failing silently.

    The traceback still goes to stderr, where a developer or a bug report can find it.
    """
    showing = False

    def hook(kind, value, tb) -> None:
        nonlocal showing
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        if showing or QApplication.instance() is None or not isinstance(value, Exception):
            return
        showing = True
        try:
            show_error(QApplication.activeWindow(), value)
        finally:
            showing = False

    sys.excepthook = hook
