"""A dismissible strip over the top of the canvas for notices that matter but need no answer
(a fallback from CUDA to the CPU, an ignored description). Non-modal on purpose, and laid over
the canvas rather than above it, so a notice coming or going never moves the photo."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from restorer_app.engine.runtime import CUDA_FALLBACK_NOTICE

#: Notices said once per run of the app: the same every time, and the status bar keeps them.
ONCE_PER_RUN = (CUDA_FALLBACK_NOTICE,)


class NoticeBar(QFrame):
    """Floats over the top edge of its parent (the window's central widget), as wide as it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setAutoFillBackground(True)
        if parent is not None:
            parent.installEventFilter(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self._close = close = QToolButton()
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
        self.place()

    def place(self) -> None:
        """Across the top of the parent, as tall as the text needs at that width."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = parent.width()
        margins = self.layout().contentsMargins()
        text_width = width - margins.left() - margins.right() - self.layout().spacing() - self._close.sizeHint().width()
        text = self.label.heightForWidth(max(1, text_width))
        height = max(text, self._close.sizeHint().height()) + margins.top() + margins.bottom()
        self.setGeometry(0, 0, width, height)
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self.place()
        return False

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
        self._said: set[str] = set()  # notices of ONCE_PER_RUN already shown

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
        """A job's notices, less those said once per run that were said already."""
        fresh = [n for n in notices if n not in self._said]
        self._said.update(n for n in notices if n in ONCE_PER_RUN)
        self.bar.show_notices(fresh)

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
