"""The tool panel's Restore step: a strength slider per degradation (denoise, JPEG blocks,
sharpen), each with an Auto box, the colour and fade box, the preview switch, Restore with its
progress, and the review of the restored photo.

A thin view: it reports the options as the user sets them, and shows the estimate, the
progress and the review it is told about. With Auto on, a slider is greyed and shows the
strength Restorer estimated for the photo; turning Auto off starts from that value.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout,
                               QWidget)

from restorer_app.engine.restoration import RestoreOptions, Strengths

from .actions import WindowActions
from .panel_widgets import ActionButton, JobProgress

#: Per strength: its name in RestoreOptions, its label, and what it does.
STRENGTHS = (
    ("denoise", "Denoise", "Removes grain and scanner noise; higher removes more (and more fine texture)"),
    ("deblock", "Remove JPEG blocks", "Smooths the 8 px blocks and ringing of an earlier JPEG copy"),
    ("sharpen", "Sharpen", "Restores detail lost to a soft print, lens or scan; too much draws halos"),
)


class StrengthControl:
    """One strength: a 0-100 % slider, its value and an Auto box."""

    def __init__(self, grid: QGridLayout, row: int, label: str, tip: str, changed) -> None:
        self.label = QLabel(label)
        self.auto = QCheckBox("Auto")
        self.auto.setChecked(True)
        self.auto.setToolTip("Use the strength Restorer estimates for this photo (shown greyed)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setPageStep(5)
        self.slider.setToolTip(tip)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("100 %"))
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.label, 2 * row, 0, 1, 2)
        grid.addWidget(self.auto, 2 * row, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.slider, 2 * row + 1, 0, 1, 2)
        grid.addWidget(self.value_label, 2 * row + 1, 2)
        self.estimate: float | None = None
        self.editable = True
        self.slider.valueChanged.connect(lambda _: (self._show_value(), changed()))
        self.auto.toggled.connect(lambda _: (self._follow_auto(), changed()))
        self._follow_auto()

    @property
    def value(self) -> float | None:
        """The strength asked for in [0, 1]; None for auto."""
        return None if self.auto.isChecked() else self.slider.value() / 100.0

    def set_value(self, value: float | None) -> None:
        """Auto (None) or a strength in [0, 1], as a script or a test sets it."""
        self.auto.setChecked(value is None)
        if value is not None:
            self.slider.setValue(round(100 * value))

    def show_estimate(self, estimate: float | None) -> None:
        self.estimate = estimate
        if self.auto.isChecked():
            self._follow_auto()

    def _follow_auto(self) -> None:
        auto = self.auto.isChecked()
        self.slider.setEnabled(self.editable and not auto)
        if auto and self.estimate is not None:
            with QSignalBlocker(self.slider):  # showing the estimate is not a change of the options
                self.slider.setValue(round(100 * self.estimate))
        self._show_value()

    def _show_value(self) -> None:
        unknown = self.auto.isChecked() and self.estimate is None
        self.value_label.setText("…" if unknown else f"{self.slider.value()} %")
        self.value_label.setEnabled(not self.auto.isChecked())


class RestoreSection(QWidget):
    #: The options changed (a slider, an Auto box, the colour box).
    options_changed = Signal()

    def __init__(self, actions: WindowActions, model_labels: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        about = QLabel("Reduces grain, JPEG blocks and softness over the whole photo and, when asked, "
                       "corrects fading and colour casts. Restore before repairing damage.")
        about.setObjectName("hint")
        about.setWordWrap(True)
        layout.addWidget(about)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.strengths = {name: StrengthControl(grid, row, label, tip, self.options_changed.emit)
                          for row, (name, label, tip) in enumerate(STRENGTHS)}
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        self.colour_check = QCheckBox("Colour && fade (automatic)")
        self.colour_check.setChecked(False)
        self.colour_check.setToolTip("Correct a faded print's levels and a colour cast with one curve per channel; "
                                     "off by default, since a dark, misty or toned photo can be taken for a faded one")
        self.colour_check.toggled.connect(self.options_changed)
        layout.addWidget(self.colour_check)
        self.preview_button = ActionButton(actions.preview_restore)
        layout.addWidget(self.preview_button)
        self.preview_note = QLabel()
        self.preview_note.setObjectName("hint")
        self.preview_note.setWordWrap(True)
        layout.addWidget(self.preview_note)
        self.restore_button = ActionButton(actions.restore, primary=True)
        self.restore_button.setMinimumHeight(36)
        layout.addWidget(self.restore_button)
        layout.addWidget(self._build_progress(actions))
        layout.addWidget(self._build_review(actions))
        layout.addWidget(QLabel("Model" if len(model_labels) == 1 else "Models"))
        for text in model_labels:
            label = QLabel(text)
            label.setObjectName("hint")
            layout.addWidget(label)
        self.set_restoring(False)
        self.set_reviewing(False)
        self.show_preview_note("")

    def _build_progress(self, actions: WindowActions) -> QWidget:
        self.progress_box = JobProgress(actions.cancel_restore, "Cancel")
        self.progress_bar, self.progress_label = self.progress_box.bar, self.progress_box.label
        return self.progress_box

    def _build_review(self, actions: WindowActions) -> QWidget:
        self.review_box = QFrame()
        self.review_box.setObjectName("reviewBox")
        box = QVBoxLayout(self.review_box)
        box.setContentsMargins(10, 10, 10, 10)
        box.setSpacing(8)
        title = QLabel("Review the restored photo")
        title.setObjectName("reviewTitle")
        box.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(6)
        accept, discard = ActionButton(actions.accept, primary=True), ActionButton(actions.discard)
        accept.setText("Accept")
        discard.setText("Discard")
        row.addWidget(accept)
        row.addWidget(discard)
        box.addLayout(row)
        self.review_summary = QLabel()
        self.review_summary.setObjectName("hint")
        self.review_summary.setWordWrap(True)
        box.addWidget(self.review_summary)
        hint = QLabel("Hold <b>\\</b> to see the photo before. Press <b>Y</b> for a split view.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        box.addWidget(hint)
        return self.review_box

    # -------------------------------------------------------------------- state

    def options(self) -> RestoreOptions:
        values = {name: control.value for name, control in self.strengths.items()}
        return RestoreOptions(**values, colour=self.colour_check.isChecked())

    def show_estimate(self, estimate: Strengths | None) -> None:
        """What auto stands for on this photo (None: not known yet)."""
        for name, control in self.strengths.items():
            control.show_estimate(getattr(estimate, name) if estimate is not None else None)

    def show_preview_note(self, text: str) -> None:
        self.preview_note.setText(text)
        self.preview_note.setVisible(bool(text))

    def set_restoring(self, restoring: bool) -> None:
        self.progress_box.setVisible(restoring)
        self.restore_button.setVisible(not restoring and not self.review_box.isVisible())
        if restoring:
            self.progress_box.start()

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress_box.show_progress(fraction, message, estimate=message != "Cancelling…")

    def set_reviewing(self, reviewing: bool, summary: str = "") -> None:
        self.review_box.setVisible(reviewing)
        self.review_summary.setText(summary)
        self.restore_button.setVisible(not reviewing and not self.progress_box.isVisible())

    def set_editable(self, editable: bool) -> None:
        """False while a job runs or a result is reviewed: the options are what it was made with."""
        for control in self.strengths.values():
            control.editable = editable
            control.auto.setEnabled(editable)
            control.slider.setEnabled(editable and not control.auto.isChecked())
        self.colour_check.setEnabled(editable)
