"""Extend Canvas for the window: new margins around the photo, generated in the background,
written as a new file with its record, then opened with the new band as the mask.

The photo as it is now (accepted fills included) gets the margins; ``auto`` hands the band to
the generation model. The result is saved at once (``<name>-extended``, asked with the save
dialog) with every operation so far plus the extension in its sidecar, so nothing depends on
an unsaved window. It then opens with the band marked: Fill with Variations above 1 makes
other versions of the band to pick from, or Clear Mask keeps this one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QStatusBar, QVBoxLayout,
                               QWidget)

from restorer_app.engine.canvas import MAX_MARGIN_SHARE, Margins
from restorer_app.engine.errors import RestorerError
from restorer_app.engine.export import export_with_record
from restorer_app.engine.pipeline import InpaintRequest
from restorer_app.engine.provenance import EXTEND_ACTION, operation_for

from . import dialogs
from .editor import Editor
from .fill_controller import FillController
from .fill_worker import ExtendWorker, Extension


class MarginsDialog(QDialog):
    """Pixels to add on each side, with the new size."""

    def __init__(self, parent: QWidget | None, height: int, width: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Extend Canvas")
        self._height, self._width = height, width
        column = QVBoxLayout(self)
        intro = QLabel("Add margins around the photo. Restorer generates what continues it there; the photo's "
                       "own pixels stay exactly as they are. The result is saved as a new file.")
        intro.setWordWrap(True)
        intro.setMinimumWidth(360)
        column.addWidget(intro)
        form = QFormLayout()
        self.spins: dict[str, QSpinBox] = {}
        for name, side in (("Top", height), ("Right", width), ("Bottom", height), ("Left", width)):
            spin = QSpinBox()
            spin.setRange(0, int(MAX_MARGIN_SHARE * side))
            spin.setSuffix(" px")
            spin.valueChanged.connect(self._show_size)
            form.addRow(name, spin)
            self.spins[name] = spin
        column.addLayout(form)
        self.size_label = QLabel()
        self.size_label.setObjectName("hint")
        column.addWidget(self.size_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Extend")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("primaryButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self._show_size()

    @property
    def margins(self) -> Margins:
        s = self.spins
        return Margins(s["Top"].value(), s["Right"].value(), s["Bottom"].value(), s["Left"].value())

    def _show_size(self) -> None:
        m = self.margins
        self.size_label.setText(f"New size: {self._width + m.left + m.right} × {self._height + m.top + m.bottom} px "
                                f"(now {self._width} × {self._height})")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(m.any)


def ask_margins(parent: QWidget | None, height: int, width: int) -> Margins | None:
    dialog = MarginsDialog(parent, height, width)
    return dialog.margins if dialog.exec() == QDialog.DialogCode.Accepted else None


def extended_name(path: Path | None) -> Path:
    """Where the extended photo is suggested to go: ``photo-extended.png`` beside ``photo.png``."""
    if path is None:
        return Path("extended.png")
    return path.with_name(f"{path.stem}-extended{path.suffix}")


class ExtendFlow(QObject):
    #: The extended photo was saved (its path); the window opens it with the band as the mask.
    saved = Signal(object, object)  # Path, band mask

    def __init__(self, editor: Editor, jobs: FillController, status: QStatusBar, window: QWidget,
                 export_synthesized) -> None:
        super().__init__(window)
        self._editor, self._jobs, self._status, self._window = editor, jobs, status, window
        self._export_synthesized = export_synthesized
        self._target: Path | None = None
        self._written: tuple[Path, np.ndarray] | None = None
        jobs.extended.connect(self._on_extended)
        jobs.done.connect(self._after_job)

    def start(self, request: InpaintRequest, margins: Margins | None = None, path: Path | None = None) -> bool:
        """Ask for the margins (unless given) and start; False if nothing was started."""
        document = self._editor.document
        if document is None or self._jobs.running or document.pending is not None:
            return False
        if margins is None:
            margins = ask_margins(self._window, *document.size)
            if margins is None:
                return False
        self._target = path
        self._editor.locked = True
        self._jobs.start_job(ExtendWorker(self._jobs.inpainter, document.image, margins, request))
        return True

    def _on_extended(self, extension: Extension) -> None:
        document = self._editor.document
        self._editor.locked = False
        if document is None:
            return
        target = self._target or dialogs.choose_save_path(self._window, extended_name(document.path))
        if target is None:
            self._status.showMessage("Extension not saved; the photo is unchanged.", 6000)
            return
        m = extension.margins
        operation = replace(operation_for(extension.result, extension.request, extension.band), action=EXTEND_ACTION,
                            extend_top=m.top, extend_right=m.right, extend_bottom=m.bottom, extend_left=m.left)
        synthesized = None
        if self._export_synthesized():
            synthesized = np.pad(document.synthesized_mask(), ((m.top, m.bottom), (m.left, m.right)))
            synthesized[extension.band > 0] = 255
        try:
            export_with_record(extension.canvas.with_pixels(extension.result.pixels), target,
                               [*document.operations, operation], source=document.path,
                               source_sha256=document.source_checksum() or "unavailable", synthesized=synthesized,
                               protect=tuple(p for p in (document.path,) if p))
        except RestorerError as error:
            dialogs.show_error(self._window, error)
            return
        self._status.showMessage(f"Extended by {m} px (top, right, bottom, left) with "
                                 f"{extension.result.method_label}; saved as {Path(target).name}.", 10000)
        self._written = (Path(target), extension.band)

    def _after_job(self) -> None:
        # Opened once the job's thread is over, so the window is in a steady state.
        written, self._written = self._written, None
        if written is not None:
            self.saved.emit(*written)
