"""The tool panel's method and description boxes, the entry point, and the error hook."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QStandardItemModel

from restorer_app.engine.pipeline import MethodInfo
from restorer_app.gui import app, dialogs
from restorer_app.gui.tool_panel import METHOD_IGNORES_TEXT_TIP, NO_TEXT_MODEL_TIP


def test_description_is_disabled_with_a_reason_when_the_method_ignores_text(window):
    text_model_installed = any(m.uses_text for m in window.inpainter.methods())
    assert window.panel.select_method("telea")
    assert not window.panel.description.isEnabled()
    expected_tip = METHOD_IGNORES_TEXT_TIP if text_model_installed else NO_TEXT_MODEL_TIP
    assert window.panel.description.toolTip() == expected_tip
    window.panel.description.setText("clear sky")
    assert window.panel.fill_options().description == ""  # never sent to a method that ignores it


def test_text_models_enable_the_description_and_unavailable_methods_are_disabled(window):
    methods = [
        MethodInfo("sky", "Sky model 1", True, True, learned=True),
        MethodInfo("broken", "Broken model 1", False, False, "missing", learned=True),
        MethodInfo("telea", "Telea (classical)", False, True),
    ]
    window.panel.set_methods(methods, text_model_installed=True)
    assert window.panel.fill_options().method.id == "sky"
    assert window.panel.description.isEnabled()
    model = window.panel.method_combo.model()
    assert isinstance(model, QStandardItemModel)
    assert not model.item(1).isEnabled() and "missing" in window.panel.method_combo.itemText(1)
    assert not window.panel.select_method("broken")
    window.panel.select_method("telea")
    assert not window.panel.description.isEnabled()
    assert "does not use descriptions" in window.panel.description.toolTip()


def test_colour_matching_is_offered_for_learned_methods_only(window):
    window.panel.set_methods([MethodInfo("sky", "Sky model 1", True, True, learned=True),
                              MethodInfo("telea", "Telea (classical)", False, True)], text_model_installed=True)
    window.panel.match_colour_check.setChecked(True)
    assert window.panel.match_colour_check.isEnabled() and window.panel.fill_options().match_colour
    window.panel.select_method("telea")
    assert not window.panel.match_colour_check.isEnabled() and not window.panel.fill_options().match_colour
    assert "edge" in window.panel.match_colour_check.toolTip()


def test_grain_is_offered_for_learned_methods_only(window):
    from restorer_app.engine.pipeline import DEFAULT_GRAIN

    window.panel.set_methods([MethodInfo("sky", "Sky model 1", True, True, learned=True),
                              MethodInfo("ns", "Navier-Stokes (classical)", False, True)], text_model_installed=True)
    assert window.panel.fill_options().grain == pytest.approx(DEFAULT_GRAIN)
    window.panel.grain_spin.setValue(80)
    assert window.panel.fill_options().grain == pytest.approx(0.8)
    window.panel.select_method("ns")
    assert not window.panel.grain_spin.isEnabled() and window.panel.fill_options().grain == 0.0
    assert "learned fills" in window.panel.grain_spin.toolTip()


def test_quick_fill_is_offered_for_learned_methods_and_remembered(qtbot, window, settings):
    from restorer_app.gui.main_window import MainWindow

    window.panel.set_methods([MethodInfo("sky", "Sky model 1", True, True, learned=True),
                              MethodInfo("ns", "Navier-Stokes (classical)", False, True)], text_model_installed=True)
    assert not window.panel.fill_options().quick
    window.panel.quick_check.setChecked(True)
    assert window.panel.fill_options().quick and "mirror" in window.panel.quick_check.toolTip()
    window.panel.select_method("ns")
    assert not window.panel.quick_check.isEnabled() and not window.panel.fill_options().quick
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.panel.quick_check.isChecked()


def test_status_bar_describes_the_photo_and_expected_device(opened):
    fields = opened.status
    assert fields.size.text() == "128 × 96 px"
    assert fields.depth.text() == "8-bit RGB"
    assert fields.device.text() == "Expected device: CPU (OpenCV)"
    assert fields.coverage.text().startswith("Mask ")


def test_entry_point_opens_image_and_mask_then_quits(qapp, photo_file, mask_file, monkeypatch, dialog_recorder):
    monkeypatch.setattr(dialogs, "_headless", False)  # main() switches it on; restore it afterwards
    assert app.main([str(photo_file), "--mask", str(mask_file), "--self-test-quit"]) == 0
    assert app.main([str(photo_file.with_name("missing.png")), "--self-test-quit"]) == 1
    assert dialog_recorder.errors == [f"'{photo_file.with_name('missing.png')}' does not exist."]


def test_excepthook_shows_unexpected_errors_in_the_error_box(qapp, monkeypatch, dialog_recorder, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    dialogs.install_excepthook()
    try:
        raise ValueError("boom")
    except ValueError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    assert len(dialog_recorder.errors) == 1
    assert "ValueError: boom" in dialog_recorder.errors[0] and "Traceback" not in dialog_recorder.errors[0]
    assert "Traceback" in capsys.readouterr().err  # developers still get it on stderr
