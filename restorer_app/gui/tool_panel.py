"""The side panel: the steps of the work in the order a restorer does them (see
``operations.WORK_ORDER``), each under its own heading: the restore step (restore_section.py),
the detect step (detect_section.py) and the repair step, whose mask tools, method, options, Fill button and review box are built
here.

A thin view: its buttons show the window's actions; it gives the window the brush size,
the grow amount and, for a fill, one :class:`FillOptions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QSlider, QSpinBox, QVBoxLayout, QWidget)

from restorer_app.engine.pipeline import DEFAULT_GRAIN, DESCRIBED_WIDTH, MethodInfo

from .actions import WindowActions
from .detect_section import DetectSection
from .restore_section import RestoreSection
from .operations import DETECT, REPAIR, RESTORE, offered_steps
from .panel_widgets import (ActionButton, JobProgress, OverlayControls, heading, off_spin, separator, spin_row,
                            step_heading)
from .variation_strip import VariationStrip

MIN_BRUSH, MAX_BRUSH = 1, 500
#: The most variations the panel offers of one fill.
MAX_VARIATIONS = 8
NO_TEXT_MODEL_TIP = ("No text-capable model is installed, so descriptions cannot be used. "
                     "The classical fills and the installed models repair from the surrounding pixels only.")
METHOD_IGNORES_TEXT_TIP = "The selected method does not use descriptions; pick a text-capable model to use one."


@dataclass(frozen=True)
class FillOptions:
    """What the panel says the next fill should be; options the method cannot use are off."""

    method: MethodInfo | None
    description: str
    soft_edge: int
    match_colour: bool
    grain: float
    quick: bool
    #: How many fills to make with consecutive seeds, to pick one from (1: just the fill).
    variations: int = 1


def _models_box(labels: Sequence[str]) -> QWidget:
    """The installed models that do a step."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(4)
    column.addWidget(QLabel("Model" if len(labels) == 1 else "Models"))
    for text in labels:
        label = QLabel(text)
        label.setObjectName("hint")
        column.addWidget(label)
    return box


class ToolPanel(QWidget):
    brush_size_changed = Signal(int)
    method_changed = Signal(object)  # MethodInfo

    def __init__(self, actions: WindowActions, models: Mapping[str, Sequence[str]] | None = None,
                 parent: QWidget | None = None) -> None:
        """``models``: per step kind, the labels of the installed models that do it."""
        super().__init__(parent)
        self.setObjectName("toolPanel")
        self._text_model_installed = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 14)
        layout.setSpacing(8)

        models = models or {}
        #: The steps shown, in the order of work.
        self.steps = offered_steps(models)
        # The one place a step gets its controls; a step without its own builder shows its models.
        #: The Detect step's controls, when a detect model is installed.
        self.detect_section: DetectSection | None = None
        #: The Restore step's controls, when a restore model is installed.
        self.restore_section: RestoreSection | None = None
        builders = {REPAIR.kind: lambda: self._build_repair(actions),
                    DETECT.kind: lambda: self._build_detect(actions, models[DETECT.kind]),
                    RESTORE.kind: lambda: self._build_restore(actions, models[RESTORE.kind])}
        numbered = len(self.steps) > 1
        for number, step in enumerate(self.steps, 1):
            if number > 1:
                layout.addSpacing(6)
                layout.addWidget(separator())
            layout.addWidget(step_heading(step.title, number if numbered else None))
            build = builders.get(step.kind)
            layout.addWidget(build() if build is not None else _models_box(models[step.kind]))
        layout.addStretch(1)

        self.set_filling(False)
        self.set_reviewing(False)

    def _build_restore(self, actions: WindowActions, labels: Sequence[str]) -> QWidget:
        self.restore_section = RestoreSection(actions, labels)
        return self.restore_section

    def _build_detect(self, actions: WindowActions, labels: Sequence[str]) -> QWidget:
        self.detect_section = DetectSection(actions, labels)
        return self.detect_section

    def _build_repair(self, actions: WindowActions) -> QWidget:
        """Mark the damage, choose how to fill it, fill, review."""
        section = QWidget()
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(heading("Mask brush"))
        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(ActionButton(actions.brush))
        tools.addWidget(ActionButton(actions.eraser))
        layout.addLayout(tools)
        more_tools = QHBoxLayout()
        more_tools.setSpacing(6)
        more_tools.addWidget(ActionButton(actions.lasso))
        more_tools.addWidget(ActionButton(actions.heal))
        layout.addLayout(more_tools)
        keep_out = QHBoxLayout()
        keep_out.setSpacing(6)
        keep_out.addWidget(ActionButton(actions.keep_out), 2)
        keep_out.addWidget(ActionButton(actions.clear_keep_out), 1)
        layout.addLayout(keep_out)
        layout.addLayout(self._build_size_row())
        self.hardness_spin = QSpinBox()
        self.hardness_spin.setRange(0, 100)
        self.hardness_spin.setSuffix(" %")
        self.hardness_spin.setValue(100)
        self.hardness_spin.setToolTip(
            "Spot heals: below 100 % the heal fades into the photo at its edge, up to a third of the way in "
            "(the speck itself is always replaced). For Fill, the Soft edge setting does this.")
        layout.addLayout(spin_row(QLabel("Heal hardness"), self.hardness_spin))
        self.review_heals_check = QCheckBox("Review each heal")
        self.review_heals_check.setToolTip("Show each spot heal for Accept or Discard instead of keeping it at once")
        layout.addWidget(self.review_heals_check)

        layout.addWidget(separator())
        layout.addWidget(heading("Mask"))
        layout.addLayout(self._build_mask_grid(actions))
        self.overlay = OverlayControls()
        layout.addWidget(self.overlay)

        layout.addWidget(separator())
        layout.addWidget(heading("Fill"))
        layout.addWidget(QLabel("Method"))
        self.method_combo = QComboBox()
        self.method_combo.currentIndexChanged.connect(self._emit_method)
        layout.addWidget(self.method_combo)
        layout.addWidget(QLabel("Description"))
        self.description = QLineEdit()
        self.description.setClearButtonEnabled(True)
        layout.addWidget(self.description)
        # A description stays for every fill until cleared, so it must be seen to be in force.
        self.description_hint = QLabel()
        self.description_hint.setObjectName("hint")
        self.description_hint.setWordWrap(True)
        layout.addWidget(self.description_hint)
        self.description.textChanged.connect(self._show_description_hint)
        layout.addLayout(self._build_soft_edge_row())
        layout.addLayout(self._build_grain_row())
        self.match_colour_check = QCheckBox("Match colour to surroundings")
        layout.addWidget(self.match_colour_check)
        self.quick_check = QCheckBox("Quick fill (one model run)")
        layout.addWidget(self.quick_check)
        self.variations_label = QLabel("Variations")
        self.variations_spin = QSpinBox()
        self.variations_spin.setRange(1, MAX_VARIATIONS)
        self.variations_spin.setValue(1)
        layout.addLayout(spin_row(self.variations_label, self.variations_spin))
        layout.addSpacing(4)
        self.fill_button = ActionButton(actions.fill, primary=True)
        self.fill_button.setMinimumHeight(40)
        layout.addWidget(self.fill_button)
        layout.addWidget(self._build_progress_box(actions))
        layout.addWidget(self._build_review_box(actions))
        return section

    # ------------------------------------------------------------------ building

    def _build_size_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(QLabel("Size"))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush diameter in photo pixels ([ and ] change it)")
        self.size_slider.setToolTip(self.size_spin.toolTip())
        self.size_slider.valueChanged.connect(self.set_brush_size)
        self.size_spin.valueChanged.connect(self.set_brush_size)
        row.addWidget(self.size_slider, 1)
        row.addWidget(self.size_spin)
        return row

    def _build_soft_edge_row(self) -> QHBoxLayout:
        self.soft_edge_spin = off_spin(64, " px")
        self.soft_edge_spin.setToolTip(
            "The fill fades into the photo over up to this many pixels inside the mask's edge, so paint a "
            "little beyond the damage. The fade never reaches more than a third of the way to a stroke's "
            "middle (on a 30 px stroke at most 5 px), so the damage under the stroke is always replaced; "
            "nothing outside the mask ever changes")
        return spin_row(QLabel("Soft edge"), self.soft_edge_spin)

    def _build_grain_row(self) -> QHBoxLayout:
        self.grain_label = QLabel("Grain")
        self.grain_spin = off_spin(100, " %")
        self.grain_spin.setSingleStep(5)
        self.grain_spin.setValue(round(100 * DEFAULT_GRAIN))
        return spin_row(self.grain_label, self.grain_spin)

    def _build_mask_grid(self, actions: WindowActions) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)
        grid.addWidget(ActionButton(actions.mask_grow), 0, 0)
        grid.addWidget(ActionButton(actions.mask_shrink), 0, 1)
        self.grow_spin = QSpinBox()
        self.grow_spin.setRange(1, 100)
        self.grow_spin.setValue(3)
        self.grow_spin.setSuffix(" px")
        self.grow_spin.setToolTip("How far Grow and Shrink move the mask edge")
        grid.addWidget(self.grow_spin, 0, 2)
        grid.addWidget(ActionButton(actions.mask_clear), 1, 0)
        grid.addWidget(ActionButton(actions.mask_invert), 1, 1)
        grid.addWidget(ActionButton(actions.mask_load), 2, 0)
        grid.addWidget(ActionButton(actions.mask_save), 2, 1)
        for column in (0, 1):
            grid.setColumnStretch(column, 1)
        return grid

    def _build_progress_box(self, actions: WindowActions) -> QWidget:
        self.progress_box = JobProgress(actions.cancel_fill, top_margin=4)
        self.progress_bar, self.progress_label = self.progress_box.bar, self.progress_box.label
        self.cancel_button = self.progress_box.cancel_button
        return self.progress_box

    def _build_review_box(self, actions: WindowActions) -> QWidget:
        self.review_box = QFrame()
        self.review_box.setObjectName("reviewBox")
        box = QVBoxLayout(self.review_box)
        box.setContentsMargins(10, 10, 10, 10)
        box.setSpacing(8)
        title = QLabel("Review the fill")
        title.setObjectName("reviewTitle")
        box.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.accept_button = ActionButton(actions.accept, primary=True)
        row.addWidget(self.accept_button)
        row.addWidget(ActionButton(actions.discard))
        box.addLayout(row)
        self.variation_strip = VariationStrip()
        box.addWidget(self.variation_strip)
        hint = QLabel("Hold <b>\\</b> to see the photo before the fill. "
                      "Press <b>Y</b> for a split view with a draggable divider.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        box.addWidget(hint)
        return self.review_box

    # -------------------------------------------------------------------- state

    @property
    def brush_size(self) -> int:
        return self.size_spin.value()

    def set_brush_size(self, size: int) -> None:
        size = min(max(int(size), MIN_BRUSH), MAX_BRUSH)
        changed = size != self.size_spin.value() or size != self.size_slider.value()
        with QSignalBlocker(self.size_slider), QSignalBlocker(self.size_spin):
            self.size_slider.setValue(size)
            self.size_spin.setValue(size)
        if changed:
            self.brush_size_changed.emit(size)

    def step_brush_size(self, *, up: bool) -> None:
        """About 20 % larger or smaller, and at least one pixel."""
        size = self.brush_size
        self.set_brush_size(max(size + 1, round(size * 1.2)) if up else max(1, min(size - 1, round(size / 1.2))))

    @property
    def grow_amount(self) -> int:
        return self.grow_spin.value()

    def fill_options(self) -> FillOptions:
        """The options for a fill now: the chosen method, and only what that method can use."""
        return FillOptions(
            method=self.method_combo.currentData(),
            description=self._description_in_force(),
            soft_edge=self.soft_edge_spin.value(),
            match_colour=self.match_colour_check.isEnabled() and self.match_colour_check.isChecked(),
            grain=self.grain_spin.value() / 100.0 if self.grain_spin.isEnabled() else 0.0,
            # Quick runs a learned model once per hole, not on the photo and its mirror image.
            quick=self.quick_check.isEnabled() and self.quick_check.isChecked(),
            variations=self.variations_spin.value() if self.variations_spin.isEnabled() else 1,
        )

    def _description_in_force(self) -> str:
        return self.description.text().strip() if self.description.isEnabled() else ""

    def _show_description_hint(self) -> None:
        text = self._description_in_force()
        self.description_hint.setText(f"Every fill on this photo is described as '{text}' until you clear it."
                                      if text else "")
        self.description_hint.setVisible(bool(text))

    def set_methods(self, methods: list[MethodInfo], text_model_installed: bool) -> None:
        self._text_model_installed = text_model_installed
        with QSignalBlocker(self.method_combo):
            self.method_combo.clear()
            model = self.method_combo.model()
            for index, info in enumerate(methods):
                label = info.label if info.available else f"{info.label} — {info.detail or 'unavailable'}"
                self.method_combo.addItem(label, info)
                if isinstance(model, QStandardItemModel):
                    model.item(index).setEnabled(info.available)
                    model.item(index).setToolTip(info.detail or info.label)
            first = next((i for i, info in enumerate(methods) if info.available), -1)
            self.method_combo.setCurrentIndex(first)
        self._emit_method()

    def select_method(self, method_id: str) -> bool:
        for index in range(self.method_combo.count()):
            info = self.method_combo.itemData(index)
            if info.id == method_id and info.available:
                self.method_combo.setCurrentIndex(index)
                return True
        return False

    def _emit_method(self) -> None:
        info = self.method_combo.currentData()
        uses_text = bool(info and info.uses_text)
        learned = bool(info and info.learned)
        self.match_colour_check.setEnabled(learned)
        self.quick_check.setEnabled(learned)
        self.quick_check.setToolTip(
            "Run the model once per hole instead of twice (on the photo and on its mirror image, "
            "averaged): about 40 % faster on the CPU, a little less accurate" if learned else
            "Classical fills run once anyway")
        self.grain_spin.setEnabled(learned)
        self.grain_label.setEnabled(learned)
        self.variations_spin.setEnabled(learned)
        self.variations_label.setEnabled(learned)
        self.variations_spin.setToolTip(
            "Make this many fills, each with the next seed, and pick one from previews of the hole (← →). "
            "Torn edges and large losses differ most; small holes differ only in their texture" if learned else
            "Classical fills give the same result every time")
        self.grain_spin.setToolTip(
            "Give the fill the fine texture of the photo around it, copied from nearby patches: up to this "
            "share of the surroundings' detail; off leaves the model's smooth fill" if learned else
            "Texture applies to learned fills; classical fills are left as OpenCV makes them")
        self.match_colour_check.setToolTip(
            "Shift the learned fill's colour and brightness to match the pixels around the hole "
            "(helps when a fill looks tinted)" if learned else
            "Classical fills already take their colours from the hole's edge")
        self.description.setEnabled(uses_text)
        self._show_description_hint()
        if uses_text:
            self.description.setToolTip(
                f"The colour and look of what belongs in large areas (holes wider than about {DESCRIBED_WIDTH} px, "
                "such as a torn corner), e.g. 'clear blue sky' or 'dark green foliage'. It sets colour and "
                "brightness, not objects. Strokes, scratches and spots narrower than that are always filled "
                "from their surroundings. Leave it empty when the surroundings make it clear: the fill is "
                "closest to the photo then.")
            self.description.setPlaceholderText("What belongs there, e.g. clear sky")
        else:
            installed = self._text_model_installed
            self.description.setToolTip(METHOD_IGNORES_TEXT_TIP if installed else NO_TEXT_MODEL_TIP)
            self.description.setPlaceholderText(
                "Not used by this method" if installed else "No text-capable model installed")
        self.method_changed.emit(info)

    def set_filling(self, filling: bool) -> None:
        self.progress_box.setVisible(filling)
        self.fill_button.setVisible(not filling)
        if filling:
            self.progress_box.start()
        self.method_combo.setEnabled(not filling)

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress_box.show_progress(fraction, message, estimate=message != "Cancelling…")

    def set_reviewing(self, reviewing: bool) -> None:
        self.review_box.setVisible(reviewing)
        self.fill_button.setVisible(not reviewing and not self.progress_box.isVisible())
