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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QMessageBox, QSlider, QSpinBox, QVBoxLayout, QWidget)

from restorer_app.engine.errors import RestorerError
from restorer_app.engine.image_formats import image_file_filter
from restorer_app.engine.project import PROJECT_SUFFIX

DEFAULT_JPEG_QUALITY = 95


#: In headless runs (``--self-test-quit``) errors go to stderr and nothing waits for a click.
_headless = False


def set_headless(headless: bool) -> None:
    global _headless
    _headless = headless


class SaveChoice(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class RecoveryChoice(enum.Enum):
    RESTORE = "restore"
    DISCARD = "discard"
    LATER = "later"  # the dialog was closed without an answer: keep the autosave for next time


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


def ask_undo_back(parent: QWidget | None, sentence: str) -> bool:
    """``sentence`` says why a step cannot be taken out alone; True: undo back to before it."""
    if _headless:
        return False
    answer = QMessageBox.question(parent, "Remove step", sentence,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def tell(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def _images_filter() -> str:
    return f"Images ({image_file_filter()});;All files (*)"


def _projects_filter() -> str:
    return f"Restorer projects (*{PROJECT_SUFFIX});;All files (*)"


def choose_image_to_open(parent: QWidget | None, folder: str = "") -> Path | None:
    filters = (f"Photographs and projects ({image_file_filter()} *{PROJECT_SUFFIX});;"
               f"Images ({image_file_filter()});;{_projects_filter()}")
    path, _ = QFileDialog.getOpenFileName(parent, "Open Photograph", folder, filters)
    return Path(path) if path else None


def choose_folder(parent: QWidget | None, title: str, folder: str = "") -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, title, folder)
    return Path(chosen) if chosen else None


def choose_images(parent: QWidget | None, folder: str = "") -> list[Path]:
    chosen, _ = QFileDialog.getOpenFileNames(parent, "Photos for the batch", folder, _images_filter())
    return [Path(path) for path in chosen]


def choose_project_to_open(parent: QWidget | None, folder: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Project", folder, _projects_filter())
    return Path(path) if path else None


def choose_project_save_path(parent: QWidget | None, suggested: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Project As", str(suggested), _projects_filter())
    if not path:
        return None
    chosen = Path(path)
    suffixed = chosen if chosen.suffix.lower() == PROJECT_SUFFIX else chosen.with_name(chosen.name + PROJECT_SUFFIX)
    return completed_name(parent, chosen, suffixed)


def locate_source(parent: QWidget | None, sentence: str, name: str, folder: str = "") -> Path | None:
    """Say why a project's photograph cannot be used (``sentence``) and let the user find it."""
    if _headless:
        print(f"restorer-gui: {sentence}", file=sys.stderr)
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, "Photograph Not Found", sentence, parent=parent)
    box.setInformativeText("Locate the original photograph to open the project with its repairs.")
    locate = box.addButton("Locate…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(locate)
    box.exec()
    if box.clickedButton() is not locate:
        return None
    path, _ = QFileDialog.getOpenFileName(parent, f"Locate {name}", folder, _images_filter())
    return Path(path) if path else None


def restore_session_box(parent: QWidget | None, summary: str) -> tuple[QMessageBox, object, object]:
    """The recovery question (built separately so it can be looked at without running it)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Recover Unsaved Work",
                      "<b>Restorer did not close properly last time.</b>", parent=parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setInformativeText(summary)
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    restore.setObjectName("primaryButton")
    restore.setToolTip("Reopen the photograph with the autosaved mask and fills")
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    discard.setToolTip("Delete the recovered work for good")
    box.setDefaultButton(restore)
    # Wide enough that the summary reads as a sentence, not a column of fragments. Set last:
    # it polishes the children, and the Restore button must already carry its name.
    box.setStyleSheet("QLabel#qt_msgbox_informativelabel { min-width: 380px; }")
    return box, restore, discard


def ask_restore_session(parent: QWidget | None, summary: str) -> RecoveryChoice:
    if _headless:
        return RecoveryChoice.LATER
    box, restore, discard = restore_session_box(parent, summary)
    box.exec()
    clicked = box.clickedButton()
    if clicked is restore:
        return RecoveryChoice.RESTORE
    return RecoveryChoice.DISCARD if clicked is discard else RecoveryChoice.LATER


class JpegQualityDialog(QDialog):
    """Quality for a JPEG export, with the warning that JPEG discards detail."""

    def __init__(self, parent: QWidget | None, quality: int = DEFAULT_JPEG_QUALITY) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as JPEG")
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        warning = QLabel("JPEG is lossy: it discards fine detail, in the repaired areas too, every time the "
                         "photograph is saved. Save as PNG or TIFF to keep every pixel.")
        warning.setWordWrap(True)
        warning.setMinimumWidth(360)
        layout.addWidget(warning)
        row = QHBoxLayout()
        row.addWidget(QLabel("Quality:"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        for control in (self.slider, self.spin):
            control.setRange(1, 100)
            control.setValue(quality)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("primaryButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def quality(self) -> int:
        return self.spin.value()


def ask_jpeg_quality(parent: QWidget | None, quality: int = DEFAULT_JPEG_QUALITY) -> int | None:
    """The JPEG quality to save with, or None when the user cancelled."""
    if _headless:
        return quality
    dialog = JpegQualityDialog(parent, quality)
    return dialog.quality if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm_replace(parent: QWidget | None, path: Path) -> bool:
    """Ask before replacing ``path``. The file dialogs ask about the name typed; this is for a
    name completed afterwards (an extension added), which they never saw."""
    if _headless:
        print(f"restorer-gui: '{path}' already exists and was not replaced", file=sys.stderr)
        return False
    answer = QMessageBox.question(
        parent, "Replace File?", f"“{path.name}” already exists in {path.parent}. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def completed_name(parent: QWidget | None, chosen: Path, completed: Path) -> Path | None:
    """``completed`` (``chosen`` with an extension added), or None when it names an existing
    file the user does not want replaced."""
    if completed != chosen and completed.exists() and not confirm_replace(parent, completed):
        return None
    return completed


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
    return completed_name(parent, chosen, chosen if chosen.suffix.lower() == ".png" else chosen.with_suffix(".png"))


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
