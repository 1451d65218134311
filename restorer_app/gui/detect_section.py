"""The tool panel's Detect step: the Detect button with its progress, the sensitivity slider
that re-thresholds the detected damage, and Repair.

A thin view: its buttons show the window's actions, the slider reports thresholds (moving,
then released; or set in one go by a key or a click on the groove), and the window tells it
what the proposal is now.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from restorer_app.engine.detection import DEFAULT_THRESHOLD

from .actions import WindowActions
from .panel_widgets import ActionButton, JobProgress

MIN_SENSITIVITY, MAX_SENSITIVITY = 1, 99  # per cent; never all or nothing of the photo


def threshold_of(sensitivity: int) -> float:
    """The probability a pixel needs to count as damage at ``sensitivity`` per cent."""
    return round(1.0 - sensitivity / 100.0, 4)


def sensitivity_of(threshold: float) -> int:
    return min(MAX_SENSITIVITY, max(MIN_SENSITIVITY, round(100 * (1.0 - threshold))))


def share_text(share: float) -> str:
    """'0.8 % of the photo', with a precision that never shows a few specks as 0 %."""
    percent = 100.0 * share
    if share <= 0:
        return "nothing in the photo"
    if percent < 0.1:
        return "under 0.1 % of the photo"
    return f"{percent:.1f} % of the photo" if percent < 10 else f"{percent:.0f} % of the photo"


class DetectSection(QWidget):
    #: The slider is being dragged: show this threshold now.
    threshold_moved = Signal(float)
    #: The slider was let go: the move is one step.
    threshold_released = Signal()
    #: A key press or a click on the groove: one step to this threshold.
    threshold_set = Signal(float)

    def __init__(self, actions: WindowActions, model_labels: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        about = QLabel("Finds scratches, dust, creases and tears and proposes them as a mask, "
                       "shown in cyan beside the red of painted strokes.")
        about.setObjectName("hint")
        about.setWordWrap(True)
        layout.addWidget(about)
        self.detect_button = ActionButton(actions.detect, primary=True)
        self.detect_button.setMinimumHeight(36)
        layout.addWidget(self.detect_button)
        layout.addWidget(self._build_progress(actions))
        layout.addLayout(self._build_slider())
        self.flagged_label = QLabel()
        self.flagged_label.setObjectName("hint")
        self.flagged_label.setWordWrap(True)
        layout.addWidget(self.flagged_label)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.repair_button = ActionButton(actions.repair)
        row.addWidget(self.repair_button)
        row.addWidget(ActionButton(actions.clear_proposal))
        layout.addLayout(row)
        editing = QLabel("The eraser removes detected damage too, at every sensitivity; the brush adds to it.")
        editing.setObjectName("hint")
        editing.setWordWrap(True)
        layout.addWidget(editing)
        models = QLabel(("Model: " if len(model_labels) == 1 else "Models: ") + ", ".join(model_labels))
        models.setObjectName("hint")
        models.setWordWrap(True)
        layout.addWidget(models)
        self._has_proposal = False
        self._editable = True
        self.set_detecting(False)
        self.show_proposal(None, 0.0)

    def _build_progress(self, actions: WindowActions) -> QWidget:
        self.progress_box = JobProgress(actions.cancel_detect, "Cancel")
        self.progress_bar, self.progress_label = self.progress_box.bar, self.progress_box.label
        return self.progress_box

    def _build_slider(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.sensitivity_label = QLabel("Sensitivity")
        row.addWidget(self.sensitivity_label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(MIN_SENSITIVITY, MAX_SENSITIVITY)
        self.slider.setPageStep(5)
        self.slider.setToolTip("Higher marks fainter damage too (and more fine detail by mistake); "
                               "the detector does not run again")
        self.slider.valueChanged.connect(self._on_value_changed)
        self.slider.sliderReleased.connect(self.threshold_released)
        row.addWidget(self.slider, 1)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("100 %"))
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.value_label)
        self.slider.setValue(sensitivity_of(DEFAULT_THRESHOLD))  # where a first detection starts
        self.value_label.setText(f"{self.slider.value()} %")
        return row

    def _on_value_changed(self, value: int) -> None:
        self.value_label.setText(f"{value} %")
        threshold = threshold_of(value)
        (self.threshold_moved if self.slider.isSliderDown() else self.threshold_set).emit(threshold)

    # -------------------------------------------------------------------- state

    def set_detecting(self, detecting: bool) -> None:
        self.progress_box.setVisible(detecting)
        self.detect_button.setVisible(not detecting)
        if detecting:
            self.progress_box.start()

    def set_editable(self, editable: bool) -> None:
        """False while a fill or detection runs or a fill is reviewed: the proposal is locked then."""
        self._editable = editable
        self._enable_slider()

    def _enable_slider(self) -> None:
        for widget in (self.slider, self.sensitivity_label, self.value_label):
            widget.setEnabled(self._has_proposal and self._editable)

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress_box.show_progress(fraction, message, estimate=message != "Cancelling…")

    def show_proposal(self, threshold: float | None, share: float) -> None:
        """The proposal now (``threshold`` None: there is none) and the share of the photo it marks."""
        has_proposal = self._has_proposal = threshold is not None
        self._enable_slider()
        if has_proposal and not self.slider.isSliderDown():
            with QSignalBlocker(self.slider):
                self.slider.setValue(sensitivity_of(threshold))
        self.value_label.setText(f"{self.slider.value()} %")
        self.flagged_label.setText(f"Detected damage: {share_text(share)}." if has_proposal
                                   else "No detected damage is shown.")
