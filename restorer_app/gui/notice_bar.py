"""A dismissible strip above the canvas for notices that matter but need no answer
(a fallback from CUDA to the CPU, an ignored description). Non-modal on purpose."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_notices(self, notices: list[str]) -> None:
        if not notices:
            self.hide()
            return
        self.label.setText("\n".join(notices))
        self.show()

    @property
    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


class WindowNotices:
    """Decides what the window's notice bar says, and for how long.

    Notices about the start (a model that cannot be used, an autosave that could not be
    recovered) outlast opening photos until they are dismissed or a fill begins; how a file
    was read (a page of several, a CMYK conversion) is said once, on opening it; a fill's
    notices stay while it is reviewed; a failing autosave is said once per failing streak."""

    def __init__(self, bar: NoticeBar) -> None:
        self.bar = bar
        self._start: list[str] = []
        self._shown_on_open: list[str] = []  # start notices plus how the open file was read
        self._autosave_failing = False

    def keep(self, notice: str) -> None:
        """Show a notice about the start, beside the others."""
        self._start.append(notice)
        self._shown_on_open = list(self._start)
        self.bar.show_notices(self._start)

    def document_opened(self, read_notes: list[str]) -> None:
        if self.bar.text != "\n".join(self._shown_on_open):  # dismissed, or a fill's notices
            self._start.clear()
        self._shown_on_open = self._start + read_notes
        self.bar.show_notices(self._shown_on_open)

    def fill_started(self) -> None:
        self._start.clear()
        self.bar.hide()

    def show_fill(self, notices: list[str]) -> None:
        self.bar.show_notices(notices)

    def review_ended(self) -> None:
        self.bar.hide()

    def detection_failed(self, sentence: str) -> None:
        self.bar.show_notices([f"Damage detection failed, so nothing was proposed: {sentence}"])

    def autosave_failed(self, sentence: str) -> None:
        if not self._autosave_failing:  # once per failing streak, not every few seconds
            self._autosave_failing = True
            self.bar.show_notices([f"Autosave failed, so recent work is not backed up: {sentence}"])

    def autosaved(self) -> None:
        if self._autosave_failing:
            self._autosave_failing = False
            self.bar.hide()
