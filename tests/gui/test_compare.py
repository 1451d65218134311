"""Before/after: holding backslash, and the split view with its draggable divider."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from gui_helpers import DAMAGE, run_fill, viewport_point


def shown_colour(window, x: float, y: float) -> QColor:
    """The colour the canvas actually renders at image pixel (x, y)."""
    image = window.canvas.viewport().grab().toImage()
    return image.pixelColor(viewport_point(window, x, y))


def is_damage_red(colour: QColor) -> bool:
    return colour.red() > 240 and colour.green() < 15 and colour.blue() < 15


def test_holding_backslash_shows_the_photo_before_the_fill(qtbot, opened):
    run_fill(qtbot, opened)
    cx, cy = (DAMAGE.x0 + DAMAGE.x1) // 2, (DAMAGE.y0 + DAMAGE.y1) // 2
    assert not is_damage_red(shown_colour(opened, cx, cy))  # the fill preview
    QTest.keyPress(opened.canvas, Qt.Key.Key_Backslash)
    assert opened.canvas.showing_before
    assert is_damage_red(shown_colour(opened, cx, cy))
    QTest.keyRelease(opened.canvas, Qt.Key.Key_Backslash)
    assert not opened.canvas.showing_before
    assert not is_damage_red(shown_colour(opened, cx, cy))


def test_backslash_types_normally_in_the_description_box(qtbot, opened):
    opened.panel.description.setEnabled(True)  # as with a text-capable model
    opened.panel.description.setFocus()
    QTest.keyClick(opened.panel.description, Qt.Key.Key_Backslash, Qt.KeyboardModifier.NoModifier)
    assert not opened.canvas.showing_before


def test_split_view_divider_drags_and_separates_before_from_after(qtbot, opened):
    run_fill(qtbot, opened)
    opened.actions_.split.trigger()
    assert opened.canvas.split
    viewport = opened.canvas.viewport()
    cy = (DAMAGE.y0 + DAMAGE.y1) // 2
    # Under review the whole canvas drags the divider; drag it to the damage's middle.
    start = viewport_point(opened, 64, 10)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    middle = viewport_point(opened, 64, cy)
    QTest.mouseMove(viewport, middle)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)
    assert abs(opened.canvas.split_fraction - 64.5 / 128) < 0.02
    assert is_damage_red(shown_colour(opened, DAMAGE.x0 + 2, cy))  # left of the divider: before
    assert not is_damage_red(shown_colour(opened, DAMAGE.x1 - 2, cy))  # right: after
    opened.actions_.split.trigger()
    assert not is_damage_red(shown_colour(opened, DAMAGE.x0 + 2, cy))


def test_zoom_actions_and_status(opened):
    canvas = opened.canvas
    opened.actions_.zoom_actual.trigger()
    assert canvas.zoom == 1.0
    assert opened.status.zoom.text() == "100 %"
    opened.actions_.zoom_fit.trigger()
    width, height = canvas.image_size
    view = canvas.viewport().size()
    assert width * canvas.zoom <= view.width() and height * canvas.zoom <= view.height()
    assert max(width * canvas.zoom / view.width(), height * canvas.zoom / view.height()) > 0.8


def test_wheel_zooms_around_the_cursor(qtbot, opened):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    canvas = opened.canvas
    anchor = viewport_point(opened, 30, 30)
    scene_before = canvas.mapToScene(anchor)
    zoom_before = canvas.zoom
    event = QWheelEvent(QPointF(anchor), QPointF(canvas.viewport().mapToGlobal(anchor)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(event)
    assert abs(canvas.zoom - zoom_before * 1.5625) < 1e-6
    scene_after = canvas.mapToScene(anchor)
    assert abs(scene_after.x() - scene_before.x()) < 1 and abs(scene_after.y() - scene_before.y()) < 1


def test_middle_button_pans(qtbot, opened):
    canvas = opened.canvas
    canvas.set_zoom(8.0)
    before = canvas.horizontalScrollBar().value()
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 200))
    QTest.mouseMove(viewport, QPoint(200, 200))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 200))
    assert canvas.horizontalScrollBar().value() == before + 100
    assert not opened.editor.undo_stack.canUndo()  # panning painted nothing


def test_space_and_left_drag_pans_instead_of_painting(qtbot, opened):
    canvas = opened.canvas
    canvas.set_zoom(8.0)
    mask_before = opened.editor.document.mask.copy()
    before = canvas.verticalScrollBar().value()
    viewport = canvas.viewport()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 300))
    QTest.mouseMove(viewport, QPoint(300, 240))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 240))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.verticalScrollBar().value() == before + 60
    assert (opened.editor.document.mask == mask_before).all()


def test_after_accepting_backslash_compares_with_the_photo_as_opened(qtbot, opened):
    run_fill(qtbot, opened)
    opened.accept_fill()
    cx, cy = (DAMAGE.x0 + DAMAGE.x1) // 2, (DAMAGE.y0 + DAMAGE.y1) // 2
    assert not is_damage_red(shown_colour(opened, cx, cy))
    QTest.keyPress(opened.canvas, Qt.Key.Key_Backslash)
    assert is_damage_red(shown_colour(opened, cx, cy))
    QTest.keyRelease(opened.canvas, Qt.Key.Key_Backslash)


def test_the_divider_stays_in_view_at_any_zoom_and_scroll(qtbot, opened):
    canvas = opened.canvas
    opened.actions_.split.setChecked(True)
    canvas.set_split_fraction(0.25)
    for zoom, (x, y) in ((8.0, (120, 80)), (16.0, (5, 5)), (4.0, (64, 48))):
        canvas.set_zoom(zoom)
        canvas.centerOn(x, y)
        seen = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
        left = max(seen.left(), 0.0)
        right = min(seen.right(), canvas.image_size[0])
        divider = canvas.split_x
        assert left <= divider <= right  # on screen, wherever the view is
        assert abs(divider - (left + 0.25 * (right - left))) <= 1  # at its share of the view
        screen_x = canvas.mapFromScene(divider, 0).x()
        assert 0 <= screen_x <= canvas.viewport().width()
        # 'before' is left of it, 'after' right of it
        assert canvas._before_clip.rect().right() == canvas._after_clip.rect().left() == pytest.approx(divider, abs=1)
