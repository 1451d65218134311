"""Painting the mask with real mouse and key events, and undoing it exactly."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui_helpers import HEIGHT, WIDTH, viewport_point


def drag(window, points) -> None:
    viewport = window.canvas.viewport()
    first, *rest = [viewport_point(window, x, y) for x, y in points]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    for point in rest:
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rest[-1] if rest else first)


def test_brush_stroke_marks_pixels_under_it_only(window, photo_file):
    window.open_path(photo_file)
    window.panel.set_brush_size(6)
    drag(window, [(20, 20), (60, 20), (100, 20)])
    mask = window.editor.document.mask
    assert (mask[20, 22:99] == 255).all()
    assert (mask[18:23, 50] == 255).all()  # 6 px wide: rows 17.5..22.5 around the centre line
    assert mask[60, 60] == 0 and mask[26, 50] == 0 and mask[20, 110] == 0
    assert window.editor.coverage == np.count_nonzero(mask) / mask.size
    assert window.status.coverage.text().startswith("Mask ")


def test_eraser_clears_what_the_brush_painted(window, photo_file):
    window.open_path(photo_file)
    window.panel.set_brush_size(10)
    drag(window, [(10, 50), (110, 50)])
    assert window.editor.document.mask[50, 60] == 255
    window.actions_.eraser.trigger()
    drag(window, [(40, 50), (80, 50)])
    mask = window.editor.document.mask
    assert (mask[46:55, 45:76] == 0).all()
    assert mask[50, 15] == 255 and mask[50, 105] == 255


def test_b_and_e_keys_switch_tools_and_brackets_change_size(window, photo_file, qtbot):
    window.open_path(photo_file)
    window.activateWindow()
    qtbot.waitActive(window)
    window.panel.set_brush_size(20)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.panel.brush_size == 24
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.panel.brush_size == 17
    assert window.panel.size_slider.value() == 17
    QTest.keyClick(window.canvas, Qt.Key.Key_E)
    assert window.actions_.eraser.isChecked()
    QTest.keyClick(window.canvas, Qt.Key.Key_B)
    assert window.actions_.brush.isChecked()


def test_undo_and_redo_of_a_stroke_restore_exact_masks(window, photo_file, mask_file):
    window.open_path(photo_file, mask_file)
    before = window.editor.document.mask.copy()
    window.panel.set_brush_size(9)
    drag(window, [(5, 5), (120, 90)])
    after = window.editor.document.mask.copy()
    assert not np.array_equal(before, after)
    assert window.actions_.undo.text() == "&Undo Brush stroke"
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(window.editor.document.mask, before)
    assert window.editor.coverage == np.count_nonzero(before) / before.size
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(window.editor.document.mask, after)


def test_mask_operations_are_undoable(window, photo_file, mask_file):
    window.open_path(photo_file, mask_file)
    original = window.editor.document.mask.copy()
    window.panel.grow_spin.setValue(3)
    window.actions_.mask_grow.trigger()
    grown = window.editor.document.mask.copy()
    assert np.count_nonzero(grown) > np.count_nonzero(original)
    window.actions_.mask_invert.trigger()
    np.testing.assert_array_equal(window.editor.document.mask, np.where(grown > 0, 0, 255))
    window.actions_.mask_clear.trigger()
    assert not window.editor.document.mask.any()
    for expected in (np.where(grown > 0, 0, 255), grown, original):
        window.actions_.undo.trigger()
        np.testing.assert_array_equal(window.editor.document.mask, expected)


def test_a_stroke_outside_the_photo_changes_nothing(window, photo_file):
    window.open_path(photo_file)
    window.panel.set_brush_size(4)
    drag(window, [(-40, -40), (-20, -30)])
    assert not window.editor.document.mask.any()
    assert not window.editor.undo_stack.canUndo()
    assert window.editor.document.mask.shape == (HEIGHT, WIDTH)


def test_undo_and_redo_shortcuts(window, photo_file, qtbot):
    window.open_path(photo_file)
    window.activateWindow()
    qtbot.waitActive(window)
    window.panel.set_brush_size(8)
    drag(window, [(30, 30), (90, 30)])
    painted = window.editor.document.mask.copy()
    ctrl = Qt.KeyboardModifier.ControlModifier
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert not window.editor.document.mask.any()
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(window.editor.document.mask, painted)


def test_the_mask_overlay_colour_and_opacity_are_chosen_and_kept(qtbot, settings, opened):
    from restorer_app.gui.main_window import MainWindow

    overlay = opened.panel.overlay
    assert opened.canvas.mask_colour.red() == 255 and opened.canvas.mask_colour.alpha() == round(255 * 0.49)
    overlay.colour_combo.setCurrentText("Blue")
    overlay.opacity_spin.setValue(80)
    colour = opened.canvas.mask_colour
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (40, 110, 255, 204)
    # The overlay draws in it: the mask's pixels take the new colour table.
    image, _ = opened.canvas._overlay._levels.level_for(1.0)
    assert image.color(255) == colour.rgba()
    again = MainWindow(settings)  # the choice is kept for the next session
    qtbot.addWidget(again)
    assert again.canvas.mask_colour.rgba() == colour.rgba()
