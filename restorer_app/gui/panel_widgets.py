"""Small widgets the tool panel is made of: buttons that mirror actions, headings, spin rows."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from restorer_app.engine.progress import duration_text


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
        self.label.setWordWrap(True)
        box.addWidget(self.label)
        self._started = time.monotonic()

    def start(self) -> None:
        """A job begins: empty bar, "Starting…", and the clock for the estimate of time left."""
        self._started = time.monotonic()
        self.bar.setValue(0)
        self.label.setText("Starting…")

    def show_progress(self, fraction: float, message: str, *, estimate: bool = True) -> None:
        """The bar at ``fraction``; the label says the same share, the time left once it can be
        estimated, and what the job is doing."""
        self.bar.setValue(round(fraction * 1000))
        elapsed = time.monotonic() - self._started
        self.label.setText(progress_text(fraction, message, elapsed if estimate else None))


def progress_text(fraction: float, message: str, elapsed: float | None) -> str:
    """"37 %, about 12 s left · Region 3 of 8": the share the bar shows, then (after 2 s and 5 %
    of the work, from the rate so far) the time left, then the job's own words."""
    parts = f"{fraction * 100:.0f} %"
    if elapsed is not None and elapsed >= 2.0 and 0.05 <= fraction < 1.0:
        parts += f", about {duration_text(elapsed * (1.0 - fraction) / fraction)} left"
    return f"{parts} · {message}" if message else parts


#: Colours the painted mask can be shown in; none is the cyan of detected damage, the amber of
#: synthesized pixels or the green of the History panel's selection.
MASK_COLOURS = {"Red": QColor(255, 45, 85), "Magenta": QColor(230, 40, 230), "Blue": QColor(40, 110, 255),
                "White": QColor(250, 250, 250), "Black": QColor(0, 0, 0)}
DEFAULT_MASK_OPACITY = 49  # per cent


class OverlayControls(QWidget):
    """The painted mask's colour and opacity: a colour list and a percentage."""

    #: The overlay's colour, with the opacity as its alpha.
    changed = Signal(QColor)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour_combo = QComboBox()
        for name, colour in MASK_COLOURS.items():
            swatch = QPixmap(14, 14)
            swatch.fill(colour)
            self.colour_combo.addItem(QIcon(swatch), name)
        self.colour_combo.setToolTip("The colour the painted mask is shown in, so it stands out on any photo")
        self.opacity_spin = QSpinBox()
        self.opacity_spin.setRange(10, 100)
        self.opacity_spin.setSuffix(" %")
        self.opacity_spin.setValue(DEFAULT_MASK_OPACITY)
        self.opacity_spin.setToolTip("How strongly the mask covers the photo")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Overlay"))
        row.addWidget(self.colour_combo, 1)
        row.addWidget(self.opacity_spin)
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.colour()))
        self.opacity_spin.valueChanged.connect(lambda _v: self.changed.emit(self.colour()))

    def colour(self) -> QColor:
        colour = QColor(MASK_COLOURS[self.colour_combo.currentText()])
        colour.setAlpha(round(255 * self.opacity_spin.value() / 100))
        return colour

    def set_choice(self, name: str, opacity: int) -> None:
        """Choose colour ``name`` (kept as it is when unknown) and ``opacity`` per cent."""
        index = self.colour_combo.findText(name)
        if index >= 0:
            self.colour_combo.setCurrentIndex(index)
        self.opacity_spin.setValue(opacity)
