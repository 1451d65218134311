"""The lasso: freehand and polygon outlines closed into the mask, Alt to take out, one undo step each."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from restorer_app.gui.lasso import fill_outline

from gui_helpers import viewport_point


def test_an_outline_marks_the_pixels_whose_centres_are_inside():
    mask = np.zeros((20, 30), np.uint8)
    patch = fill_outline(mask, [(2, 3), (12, 3), (12, 9), (2, 9)], 255)
    expected = np.zeros_like(mask)
    expected[3:9, 2:12] = 255  # centres (x + .5, y + .5) strictly inside the rectangle 2..12 x 3..9
    assert np.array_equal(mask, expected)
    assert patch.box.x0 <= 2 and patch.box.x1 >= 12 and not patch.before.any()
    triangle = np.zeros((40, 40), np.uint8)
    fill_outline(triangle, [(0, 0), (40, 0), (0, 40)], 255)
    assert abs(int(np.count_nonzero(triangle)) - 800) <= 40  # half the square
    assert triangle[5, 5] and not triangle[35, 35]
    assert fill_outline(mask, [(1, 1), (5, 5)], 255) is None  # two points enclose nothing


def _press(canvas, window, x, y, modifiers=Qt.KeyboardModifier.NoModifier):
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, modifiers, viewport_point(window, x, y))


def test_a_polygon_is_clicked_corner_by_corner_and_closed_on_its_first_corner(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.actions_.lasso.trigger()
    canvas, editor = window.canvas, window.editor
    for x, y in ((10, 10), (50, 10), (50, 40), (10, 40)):
        _press(canvas, window, x, y)
    assert canvas.lasso.active and editor.mask_is_empty  # still open
    _press(canvas, window, 10, 10)  # on the first corner: closes
    assert not canvas.lasso.active
    mask = editor.document.mask
    assert mask[25, 30] == 255 and mask[5, 30] == 0 and mask[25, 60] == 0
    assert 0.8 * 40 * 30 <= np.count_nonzero(mask) <= 1.2 * 41 * 31
    assert editor.undo_stack.undoText() == "Lasso"
    # Alt as it closes takes an area out.
    for x, y in ((20, 20), (40, 20), (40, 30)):
        _press(canvas, window, x, y)
    QTest.keyClick(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert mask[22, 35] == 0 and mask[35, 15] == 255
    assert editor.undo_stack.undoText() == "Lasso, taken out"
    editor.undo_stack.undo()
    assert mask[22, 35] == 255


def test_a_freehand_outline_closes_when_the_button_is_let_go_and_esc_drops_one(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.actions_.lasso.trigger()
    canvas, editor = window.canvas, window.editor
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, viewport_point(window, 60, 20))
    for x, y in ((90, 20), (90, 60), (60, 60)):
        QTest.mouseMove(viewport, viewport_point(window, x, y))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       viewport_point(window, 60, 60))
    mask = editor.document.mask
    assert mask[40, 75] == 255 and mask[40, 100] == 0
    before = mask.copy()
    for x, y in ((5, 70), (30, 70), (30, 90)):
        _press(canvas, window, x, y)
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.lasso.active and np.array_equal(mask, before)


def test_a_loop_drawn_round_twice_is_all_inside():
    mask = np.zeros((30, 30), np.uint8)
    square = [(5, 5), (25, 5), (25, 25), (5, 25)]
    fill_outline(mask, square + square, 255)
    assert mask[6:25, 6:25].all() and np.count_nonzero(mask) == 20 * 20
