"""Source control in the window: the area kept out of copying is painted, shown, used by fills,
recorded, undone and kept in projects."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from restorer_app.engine.project import load_project
from restorer_app.gui.undo_commands import NO_SOURCE_LAYER

from gui_helpers import fill_and_accept, viewport_point


def test_the_kept_out_area_is_painted_on_its_own_layer_and_reaches_the_fill(qtbot, opened, tmp_path):
    editor, canvas = opened.editor, opened.canvas
    mask_before = editor.document.mask.copy()
    opened.actions_.keep_out.trigger()
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, viewport_point(opened, 10, 60))
    QTest.mouseMove(viewport, viewport_point(opened, 40, 60))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       viewport_point(opened, 40, 60))
    area = editor.document.no_source
    assert area[60, 25] == 255 and area[10, 100] == 0
    assert np.array_equal(editor.document.mask, mask_before)  # the mask is untouched
    assert canvas.no_source_shown is area  # shown, viewing the document's array
    assert editor.undo_stack.undoText() == "Keep-out brush stroke"
    kept = int(np.count_nonzero(area))
    assert opened.panel.select_method("auto")
    fill_and_accept(qtbot, opened)
    operation = editor.document.operations[-1]
    assert operation.no_source_pixels == (kept if operation.model_id else 0)
    assert area[60, 25] == 255  # a fill keeps the area for the next one
    assert opened.save_project(tmp_path / "work.restorer")
    project = load_project(tmp_path / "work.restorer")
    assert np.array_equal(project.no_source, area)
    editor.undo_stack.undo()  # the fill
    editor.undo_stack.undo()  # the stroke
    assert not area.any()
    assert opened.open_project(tmp_path / "work.restorer")  # reopened, the area is back
    assert int(np.count_nonzero(opened.editor.document.no_source)) == kept


def test_alt_erases_the_kept_out_area_and_clear_takes_it_all_back(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    editor = window.editor
    editor.begin_stroke(20, 20, 10, erase=False, layer=NO_SOURCE_LAYER)
    editor.continue_stroke(60, 20)
    editor.end_stroke()
    window.actions_.keep_out.trigger()
    viewport = window.canvas.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     viewport_point(window, 40, 20))
    area = editor.document.no_source
    assert area[20, 40] == 0 and area[20, 25] == 255
    assert editor.undo_stack.undoText() == "Keep-out eraser stroke"
    window.actions_.clear_keep_out.trigger()
    assert not area.any() and editor.undo_stack.undoText() == "Clear kept-out area"
    editor.undo_stack.undo()
    assert area[20, 25] == 255
