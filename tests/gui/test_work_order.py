"""The panel and the Repair menu follow the order of work (restore, detect, repair), offering a
step only when a model can do it; a fill's request is built from the panel's one options object."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from restorer_app.engine.pipeline import AUTO, Inpainter, MethodInfo
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import Device
from restorer_app.gui.actions import WindowActions
from restorer_app.gui.main_window import MainWindow, inpaint_request
from restorer_app.gui.operations import DETECT, REPAIR, RESTORE, WORK_ORDER, installed_models, model_kind, offered_steps
from restorer_app.gui.tool_panel import FillOptions, ToolPanel


def _step_titles(panel: ToolPanel) -> list[str]:
    return [label.text() for label in panel.findChildren(QLabel, "stepHeading")]


def _repair_menu_texts(window: MainWindow) -> list[str]:
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Repair")
    return [action.text() if not action.isSeparator() else "—" for action in menu.actions()]


def test_the_work_order_is_restore_then_detect_then_repair():
    assert [step.kind for step in WORK_ORDER] == ["restore", "detect", "inpaint"]
    assert offered_steps({}) == [REPAIR]  # the classical fills need no model
    assert offered_steps({"restore": ["R 1"], "detect": []}) == [RESTORE, REPAIR]


def test_a_kind_the_engine_does_not_know_has_no_models(tmp_path):
    assert model_kind("no-such-kind") is None
    assert installed_models(ModelRegistry([tmp_path]), "no-such-kind") == []
    assert model_kind("inpaint") is not None


def test_without_restore_or_detect_models_only_repair_shows(qtbot):
    panel = ToolPanel(WindowActions(None), {"inpaint": []})
    qtbot.addWidget(panel)
    assert panel.steps == [REPAIR]
    assert _step_titles(panel) == ["Repair damage"]  # one step: no number promising others


def test_the_bundled_models_put_restore_and_detect_before_repair(window):
    assert window.panel.steps == [RESTORE, DETECT, REPAIR]
    assert _step_titles(window.panel) == ["1\u2002Restore photo", "2\u2002Detect damage", "3\u2002Repair damage"]
    texts = _repair_menu_texts(window)
    assert texts.index("&Detect Damage") < texts.index("&Fill")  # the menu follows the order of work
    assert texts[-10:] == ["&Fill", "&Cancel Fill", "—", "&Accept Fill", "&Discard Fill", "—",
                           "&Previous Variation", "&Next Variation", "—", "E&xtend Canvas…"]


def test_a_step_with_a_model_comes_in_the_order_of_work_and_the_steps_are_numbered(qtbot):
    actions = WindowActions(None)
    panel = ToolPanel(actions, {"restore": ["Photo restorer 1.0"], "inpaint": []})
    qtbot.addWidget(panel)
    assert panel.steps == [RESTORE, REPAIR]
    assert _step_titles(panel) == ["1\u2002Restore photo", "2\u2002Repair damage"]
    assert any(label.text() == "Photo restorer 1.0" for label in panel.findChildren(QLabel))


@pytest.mark.skipif(model_kind("restore") is None, reason="the engine has no restore kind")
def test_an_installed_restore_model_puts_its_step_first(qtbot, settings, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    data = b"not read while listing"
    (folder / "restore.onnx").write_bytes(data)
    spec = {"name": "image", "dtype": "float32", "layout": "NCHW", "channels": 3, "range": [0, 1]}
    entry = {"id": "restorer", "name": "Photo restorer", "version": "1.0", "kind": "restore",
             "file": "restore.onnx", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
             "inputs": [spec], "outputs": [dict(spec, name="output")]}
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "models": [entry]}))
    window = MainWindow(settings, Inpainter(ModelRegistry([folder])))
    qtbot.addWidget(window)
    assert window.panel.steps[0] is RESTORE and window.panel.steps[-1] is REPAIR
    assert _step_titles(window.panel)[0] == "1\u2002Restore photo"


def test_the_fill_request_carries_every_option_of_the_panel():
    sky = MethodInfo("sky", "Sky model 1", True, True, learned=True)
    options = FillOptions(method=sky, description="clear sky", soft_edge=6, match_colour=True, grain=0.4,
                          quick=True)
    request = inpaint_request(options)
    assert (request.method, request.prompt, request.device) == ("sky", "clear sky", Device.AUTO)
    assert (request.feather, request.harmonize, request.grain, request.quick) == (6, True, 0.4, True)
    assert inpaint_request(FillOptions(None, "", 0, False, 0.0, False)).method == AUTO


def test_the_panel_options_follow_the_chosen_method(window):
    window.panel.set_methods([MethodInfo("sky", "Sky model 1", True, True, learned=True),
                              MethodInfo("telea", "Telea (classical)", False, True)], text_model_installed=True)
    window.panel.description.setText("  clear sky ")
    window.panel.soft_edge_spin.setValue(5)
    options = window.panel.fill_options()
    assert (options.method.id, options.description, options.soft_edge) == ("sky", "clear sky", 5)
    window.panel.select_method("telea")
    options = window.panel.fill_options()
    assert (options.method.id, options.description, options.grain, options.quick) == ("telea", "", 0.0, False)
    assert options.soft_edge == 5  # the soft edge applies to every method
