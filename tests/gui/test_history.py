"""The History panel: every accepted step listed, selected (tinted), hidden to compare, removed
when that is exact, and otherwise an offer to undo back to it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from restorer_app.engine.regions import Box

from gui_helpers import fill_and_accept, paint

WIDE_HEIGHT, WIDE_WIDTH = 128, 480
LEFT, RIGHT = Box(30, 50, 46, 66), Box(420, 60, 436, 76)


@pytest.fixture
def wide(window, tmp_path):
    """A wide photo with two red blots far apart, open with method Telea."""
    yy, xx = np.mgrid[0:WIDE_HEIGHT, 0:WIDE_WIDTH]
    pixels = np.stack([xx * 255 // WIDE_WIDTH, yy * 255 // WIDE_HEIGHT, (xx // 7 + yy // 5) % 2 * 90 + 60], axis=2)
    pixels = pixels.astype(np.uint8)
    for box in (LEFT, RIGHT):
        pixels[box.slices] = (255, 0, 0)
    path = tmp_path / "wide.png"
    Image.fromarray(pixels).save(path)
    assert window.open_path(path)
    assert window.panel.select_method("telea")
    return window


def mark(window, box: Box) -> None:
    window.editor.mark(_box_mask(box), "Mark")


def _box_mask(box: Box) -> np.ndarray:
    mask = np.zeros((WIDE_HEIGHT, WIDE_WIDTH), np.uint8)
    mask[box.y0 - 2:box.y1 + 2, box.x0 - 2:box.x1 + 2] = 255
    return mask


def two_fills(qtbot, window) -> None:
    for box in (LEFT, RIGHT):
        mark(window, box)
        fill_and_accept(qtbot, window)


def click_row(qtbot, panel, index: int) -> None:
    tree = panel.tree
    rect = tree.visualItemRect(tree.topLevelItem(index))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_each_accepted_step_is_listed_with_its_method_and_pixels(qtbot, opened):
    panel = opened.history_panel
    assert panel.rows == [] and panel.placeholder.isVisibleTo(panel)
    fill_and_accept(qtbot, opened)
    paint(opened, [(10, 10)], diameter=5)
    fill_and_accept(qtbot, opened)
    rows = panel.rows
    assert [row.title for row in rows] == ["Fill (Telea (classical))", "Fill (Telea (classical))"]
    assert all(row.applied for row in rows)
    first = panel.tree.topLevelItem(0)
    assert first.text(1) == "—"  # a classical fill has no seed
    assert first.text(2) == f"{rows[0].pixels:,}" and rows[0].pixels == rows[0].patch.operation.pixels_changed > 0
    click_row(qtbot, panel, 0)
    assert "Method: Telea (classical)" in panel.details.text()
    assert f"Pixels changed: {rows[0].pixels:,}" in panel.details.text()
    opened.editor.undo_stack.undo()
    assert [row.applied for row in panel.rows] == [True, False]  # undone: listed, greyed, Redo brings it back
    assert panel.tree.topLevelItem(1).font(0).italic()
    opened.editor.undo_stack.redo()
    assert [row.applied for row in panel.rows] == [True, True]


def test_selecting_a_step_tints_its_pixels(qtbot, opened):
    mask = opened.editor.document.mask.copy()
    fill_and_accept(qtbot, opened)
    assert opened.canvas.highlighted is None
    click_row(qtbot, opened.history_panel, 0)
    assert np.array_equal(opened.canvas.highlighted > 0, mask > 0)
    opened.history_panel.select(None)
    assert opened.canvas.highlighted is None


def test_a_hidden_step_is_only_hidden_from_view(qtbot, wide):
    original = wide.editor.document.original.copy()
    two_fills(qtbot, wide)
    after = wide.editor.document.image.pixels.copy()
    panel = wide.history_panel
    panel.set_shown(0, False)
    shown = wide.canvas._after.display.source
    left = _box_mask(LEFT) > 0
    assert np.array_equal(shown[left], original[left])  # the left fill is out of the view
    assert np.array_equal(shown[~left], after[~left])  # the right one is in it
    assert np.array_equal(wide.editor.document.image.pixels, after)  # the photo keeps both
    assert len(wide.editor.document.operations) == 2
    assert panel.hidden_note.isVisibleTo(panel) and panel.show_all_button.isEnabled()
    panel.show_all()
    assert np.array_equal(wide.canvas._after.display.source, after)
    assert not panel.show_all_button.isEnabled()


def test_an_independent_step_is_removed_exactly_and_undo_puts_it_back(qtbot, wide, tmp_path):
    original = wide.editor.document.original.copy()
    two_fills(qtbot, wide)
    after = wide.editor.document.image.pixels.copy()
    panel = wide.history_panel
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    pixels = wide.editor.document.image.pixels
    left = _box_mask(LEFT) > 0
    assert np.array_equal(pixels[left], original[left])
    assert np.array_equal(pixels[~left], after[~left])  # the later fill is bit for bit as it was
    assert [op.pixels_changed for op in wide.editor.document.operations] == [int((_box_mask(RIGHT) > 0).sum())]
    assert [row.title for row in panel.rows] == ["Fill (Telea (classical))"]
    assert wide.editor.undo_stack.undoText() == "Remove Fill (Telea (classical))"
    project = wide.editor.project()  # a project (and autosave) holds the steps that are left
    assert len(project.steps) == 1 and project.position == 1
    assert np.array_equal(project.steps[0].holes, _box_mask(RIGHT)[project.steps[0].box.slices] > 0)
    wide.editor.undo_stack.undo()
    assert np.array_equal(wide.editor.document.image.pixels, after)
    assert len(panel.rows) == 2 and len(wide.editor.document.operations) == 2


def test_a_step_a_later_one_read_is_not_removed_but_undone_back_to(qtbot, opened, dialog_recorder):
    original = opened.editor.document.original.copy()
    fill_and_accept(qtbot, opened)
    paint(opened, [(60, 40), (70, 48)], diameter=6)  # over the first fill
    fill_and_accept(qtbot, opened)
    panel = opened.history_panel
    click_row(qtbot, panel, 0)
    dialog_recorder.undo_back_answers.append(False)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert "2. Fill (Telea (classical))" in dialog_recorder.undo_back_questions[0]
    assert "1. Fill (Telea (classical)) cannot" in dialog_recorder.undo_back_questions[0]
    assert "3 undo steps" in dialog_recorder.undo_back_questions[0]
    assert len(opened.editor.document.operations) == 2  # Cancel: nothing changed
    dialog_recorder.undo_back_answers.append(True)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(opened.editor.document.image.pixels, original)
    assert [row.applied for row in panel.rows] == [False, False]
    assert not panel.remove_button.isEnabled()


def test_painting_with_a_step_selected_neither_scrolls_nor_rebuilds_the_view(qtbot, wide):
    two_fills(qtbot, wide)
    panel, canvas = wide.history_panel, wide.canvas
    panel.set_shown(0, False)
    click_row(qtbot, panel, 1)
    view = canvas._after.display
    canvas.set_zoom(8.0)
    canvas.centerOn(240, 20)
    where = canvas.visible_photo()
    paint(wide, [(200, 100), (210, 100)], diameter=3)  # a stroke moves the undo stack
    assert canvas.visible_photo() == where  # no jump to the selected step
    assert canvas._after.display is view  # the view without the hidden step was not made again
    assert canvas.highlighted is not None and panel.selected_row().title == panel.rows[1].title
