"""The side panel: brush, mask operations, method and description, Fill, review.

A thin view: its buttons show the window's actions, and it exposes the few values the
window reads (brush size, grow amount, chosen method, description).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QStandardItemModel
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSizePolicy, QSlider, QSpinBox, QVBoxLayout,
                               QWidget)

from restorer_app.engine.pipeline import DEFAULT_GRAIN, DESCRIBED_WIDTH, MethodInfo

from .actions import WindowActions

MIN_BRUSH, MAX_BRUSH = 1, 500
NO_TEXT_MODEL_TIP = ("No text-capable model is installed, so descriptions cannot be used. "
                     "The classical fills and the installed models repair from the surrounding pixels only.")
METHOD_IGNORES_TEXT_TIP = "The selected method does not use descriptions; pick a text-capable model to use one."


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


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("panelHeading")
    return label


def _separator() -> QFrame:
    line = QFrame()
    line.setObjectName("panelSeparator")
    line.setFrameShape(QFrame.Shape.HLine)
    return line


def _off_spin(top: int, suffix: str) -> QSpinBox:
    """A 0..``top`` spin box whose 0 reads "off"."""
    spin = QSpinBox()
    spin.setRange(0, top)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("off")
    return spin


def _spin_row(label: QLabel, spin: QSpinBox) -> QHBoxLayout:
    """A label on the left, a spin box on the right."""
    row = QHBoxLayout()
    row.setSpacing(8)
    row.addWidget(label)
    row.addStretch(1)
    row.addWidget(spin)
    return row


class ToolPanel(QWidget):
    brush_size_changed = Signal(int)
    method_changed = Signal(object)  # MethodInfo

    def __init__(self, actions: WindowActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolPanel")
        self._text_model_installed = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 14)
        layout.setSpacing(8)

        layout.addWidget(_heading("Mask brush"))
        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(ActionButton(actions.brush))
        tools.addWidget(ActionButton(actions.eraser))
        layout.addLayout(tools)
        layout.addLayout(self._build_size_row())

        layout.addWidget(_separator())
        layout.addWidget(_heading("Mask"))
        layout.addLayout(self._build_mask_grid(actions))

        layout.addWidget(_separator())
        layout.addWidget(_heading("Repair"))
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
        layout.addSpacing(4)
        self.fill_button = ActionButton(actions.fill, primary=True)
        self.fill_button.setMinimumHeight(40)
        layout.addWidget(self.fill_button)
        layout.addWidget(self._build_progress_box(actions))
        layout.addWidget(self._build_review_box(actions))
        layout.addStretch(1)

        self.set_filling(False)
        self.set_reviewing(False)

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
        self.soft_edge_spin = _off_spin(64, " px")
        self.soft_edge_spin.setToolTip(
            "The fill fades into the photo over up to this many pixels inside the mask's edge, so paint a "
            "little beyond the damage. The fade never reaches more than a third of the way to a stroke's "
            "middle (on a 30 px stroke at most 5 px), so the damage under the stroke is always replaced; "
            "nothing outside the mask ever changes")
        return _spin_row(QLabel("Soft edge"), self.soft_edge_spin)

    def _build_grain_row(self) -> QHBoxLayout:
        self.grain_label = QLabel("Grain")
        self.grain_spin = _off_spin(100, " %")
        self.grain_spin.setSingleStep(5)
        self.grain_spin.setValue(round(100 * DEFAULT_GRAIN))
        return _spin_row(self.grain_label, self.grain_spin)

    @property
    def grain(self) -> float:
        """Grain matching strength for learned fills (0 when the method is classical)."""
        return self.grain_spin.value() / 100.0 if self.grain_spin.isEnabled() else 0.0

    @property
    def soft_edge(self) -> int:
        return self.soft_edge_spin.value()

    @property
    def match_colour(self) -> bool:
        return self.match_colour_check.isEnabled() and self.match_colour_check.isChecked()

    @property
    def quick(self) -> bool:
        """Run a learned model once per hole, not on the photo and its mirror image."""
        return self.quick_check.isEnabled() and self.quick_check.isChecked()

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
        self.progress_box = QWidget()
        box = QVBoxLayout(self.progress_box)
        box.setContentsMargins(0, 4, 0, 0)
        box.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        row.addWidget(self.progress_bar, 1)
        self.cancel_button = ActionButton(actions.cancel_fill)
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.cancel_button)
        box.addLayout(row)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("hint")
        box.addWidget(self.progress_label)
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

    @property
    def grow_amount(self) -> int:
        return self.grow_spin.value()

    @property
    def description_text(self) -> str:
        return self.description.text().strip() if self.description.isEnabled() else ""

    def _show_description_hint(self) -> None:
        text = self.description_text
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

    @property
    def method(self) -> MethodInfo | None:
        return self.method_combo.currentData()

    def _emit_method(self) -> None:
        info = self.method
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
        self.grain_spin.setToolTip(
            "Give the fill the film grain and fine texture of the photo around it: 100 % matches "
            "the surroundings, off leaves the model's smooth fill" if learned else
            "Grain matching applies to learned fills; classical fills are left as OpenCV makes them")
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
            self.progress_bar.setValue(0)
            self.progress_label.setText("Starting…")
        self.method_combo.setEnabled(not filling)

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        self.progress_label.setText(message)

    def set_reviewing(self, reviewing: bool) -> None:
        self.review_box.setVisible(reviewing)
        self.fill_button.setVisible(not reviewing and not self.progress_box.isVisible())
