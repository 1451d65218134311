"""Shift-click draws a straight stroke from where the last one ended (Photoshop, GIMP, Krita)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui_helpers import viewport_point


def test_shift_click_paints_a_straight_line_from_the_last_stroke(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.panel.set_brush_size(3)
    canvas = window.canvas.viewport()
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, viewport_point(window, 10, 10))
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     viewport_point(window, 110, 70))
    mask = window.editor.document.mask
    for t in np.linspace(0.1, 0.9, 9):  # every point of the line between the two clicks
        x, y = 10 + 100 * t, 10 + 60 * t
        assert mask[round(y), round(x)] == 255
    assert mask[70, 10] == 0 and mask[10, 110] == 0  # a line, not a box
    assert window.editor.undo_stack.undoText() == "Straight brush stroke"
    window.editor.undo_stack.undo()
    assert mask[40, 60] == 0 and mask[10, 10] == 255  # one undo step, the first click stays


def test_shift_click_without_an_earlier_stroke_is_a_dot(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.panel.set_brush_size(5)
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     viewport_point(window, 50, 50))
    mask = window.editor.document.mask
    assert mask[50, 50] == 255 and np.count_nonzero(mask) < 40
