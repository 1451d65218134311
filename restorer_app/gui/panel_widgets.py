"""Small widgets the tool panel is made of: buttons that mirror actions, headings, spin rows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)


class ActionButton(QPushButton):
    """A push button that mirrors a QAction (text, icon, tip, enabled, checked) and triggers it.

    QToolButton.setDefaultAction does the mirroring too, but left-aligns its label; the
    panel's buttons read better centred."""

    def __init__(self, action: QAction, *, primary: bool = False) -> None:
        super().__init__()
        self._action = action
        if primary:
            self.setObjectName("primaryButton")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Clicking a tool button must not steal focus from the canvas, or Space would
        # press the button instead of panning.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clicked.connect(self._trigger)
        action.changed.connect(self._sync)
        self._sync()

    def _trigger(self) -> None:
        self._action.trigger()
        self.setChecked(self._action.isChecked())

    def _sync(self) -> None:
        action = self._action
        self.setText(action.iconText() if action.iconText() else action.text().replace("&", ""))
        self.setIcon(action.icon())
        self.setToolTip(action.toolTip())
        self.setEnabled(action.isEnabled())
        self.setCheckable(action.isCheckable())
        self.setChecked(action.isChecked())


def step_heading(title: str, number: int | None) -> QLabel:
    """The title of one step of the work; numbered when there are several, since a lone
    "1" would promise steps that are not there."""
    label = QLabel(f"{number}\u2002{title}" if number is not None else title)
    label.setObjectName("stepHeading")
    return label


def heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("panelHeading")
    return label


def separator() -> QFrame:
    line = QFrame()
    line.setObjectName("panelSeparator")
    line.setFrameShape(QFrame.Shape.HLine)
    return line


def off_spin(top: int, suffix: str) -> QSpinBox:
    """A 0..``top`` spin box whose 0 reads "off"."""
    spin = QSpinBox()
    spin.setRange(0, top)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("off")
    return spin


def spin_row(label: QLabel, spin: QSpinBox) -> QHBoxLayout:
    """A label on the left, a spin box on the right."""
    row = QHBoxLayout()
    row.setSpacing(8)
    row.addWidget(label)
    row.addStretch(1)
    row.addWidget(spin)
    return row


def scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` in a vertical scroll area: a tall panel (more steps, a small screen) then
    scrolls instead of making the window taller than the screen."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumWidth(panel.sizeHint().width() + area.verticalScrollBar().sizeHint().width())
    return area


class JobProgress(QWidget):
    """A long job's progress bar with its Cancel button and a line saying what it is doing."""

    def __init__(self, cancel: QAction, cancel_text: str | None = None, top_margin: int = 0) -> None:
        super().__init__()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, top_margin, 0, 0)
        box.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        row.addWidget(self.bar, 1)
        self.cancel_button = ActionButton(cancel)
        if cancel_text:
            self.cancel_button.setText(cancel_text)
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.cancel_button)
        box.addLayout(row)
        self.label = QLabel()
        self.label.setObjectName("hint")
        box.addWidget(self.label)
