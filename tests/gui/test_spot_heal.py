"""The spot healing brush: filled on release, accepted as one undo step, queued while busy."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui_helpers import DAMAGE, RED, viewport_point


def _heal_at(window, x, y):
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     viewport_point(window, x, y))


def _idle(window):
    return not window.healing.busy and not window.fills.running


def test_a_click_heals_the_speck_at_once_as_one_undo_step(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.actions_.heal.trigger()
    window.panel.set_brush_size(24)
    before = window.editor.document.image.pixels.copy()
    _heal_at(window, (DAMAGE.x0 + DAMAGE.x1) / 2, (DAMAGE.y0 + DAMAGE.y1) / 2)
    qtbot.waitUntil(lambda: _idle(window), timeout=10_000)
    pixels = window.editor.document.image.pixels
    assert not (pixels[DAMAGE.slices] == RED).all(axis=2).any()  # the red speck is gone
    assert not window.editor.document.mask.any()  # and its stroke with it
    assert window.editor.document.pending is None
    stack = window.editor.undo_stack
    assert stack.count() == 1 and stack.undoText() == "Spot heal"
    (operation,) = window.editor.document.operations
    assert operation.pixels_changed > 0
    stack.undo()
    assert np.array_equal(window.editor.document.image.pixels, before)
    assert not window.editor.document.mask.any()  # undo takes the stroke back too
    stack.redo()
    assert not (window.editor.document.image.pixels[DAMAGE.slices] == RED).all(axis=2).any()


def test_specks_clicked_while_one_heals_wait_their_turn_and_keep_other_strokes(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.panel.set_brush_size(5)
    window.editor.begin_stroke(10, 80, 5, erase=False)  # a brush stroke meant for a later Fill
    window.editor.end_stroke()
    window.actions_.heal.trigger()
    spots = [(20, 20), (100, 20), (100, 70), (40, 60)]
    for x, y in spots:
        _heal_at(window, x, y)
    qtbot.waitUntil(lambda: _idle(window), timeout=20_000)
    stack = window.editor.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Brush stroke"] + ["Spot heal"] * len(spots)
    mask = window.editor.document.mask
    assert mask[80, 10] == 255  # the brush stroke stays for its Fill
    assert all(mask[y, x] == 0 for x, y in spots)
    assert len(window.editor.document.operations) == len(spots)


def test_review_each_heal_shows_it_for_accept_or_discard(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.actions_.heal.trigger()
    window.panel.review_heals_check.setChecked(True)
    window.panel.set_brush_size(9)
    _heal_at(window, 30, 30)
    qtbot.waitUntil(lambda: window.editor.document.pending is not None and not window.fills.running, timeout=10_000)
    assert window.actions_.accept.isEnabled()
    window.discard_fill()
    assert window.editor.document.pending is None and not window.editor.document.mask.any()
    assert window.editor.undo_stack.count() == 0
    _heal_at(window, 30, 30)
    qtbot.waitUntil(lambda: window.editor.document.pending is not None and not window.fills.running, timeout=10_000)
    window.accept_fill()
    assert window.editor.undo_stack.undoText() == "Spot heal" and not window.editor.document.mask.any()


def test_a_soft_heal_fades_into_the_photo_at_its_edge_and_replaces_its_middle(qtbot, window, photo_file):
    assert window.open_path(photo_file)
    window.actions_.heal.trigger()
    window.panel.set_brush_size(30)
    centre = ((DAMAGE.x0 + DAMAGE.x1) / 2, (DAMAGE.y0 + DAMAGE.y1) / 2)
    results = {}
    for hardness in (100, 0):
        window.panel.hardness_spin.setValue(hardness)
        _heal_at(window, *centre)
        qtbot.waitUntil(lambda: _idle(window), timeout=10_000)
        results[hardness] = window.editor.document.image.pixels.copy()
        (operation,) = window.editor.document.operations
        assert (operation.feather > 0) is (hardness == 0)  # recorded like Fill's soft edge
        window.editor.undo_stack.undo()
    original = window.editor.document.image.pixels
    hard, soft = (results[h].astype(int) for h in (100, 0))
    cy, cx = round(centre[1]), round(centre[0])
    assert np.array_equal(hard[cy, cx], soft[cy, cx])  # the middle is all heal either way
    edge = (cy, cx + 14)  # just inside the 30 px brush's edge
    assert np.abs(soft[edge] - original[edge]).sum() < np.abs(hard[edge] - original[edge]).sum()
    assert window.settings.value("heal/hardness", type=int) == 0
