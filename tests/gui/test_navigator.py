"""The navigator: the whole photo in the corner while zoomed in; a click moves the view there."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt


def test_the_navigator_shows_while_zoomed_in_and_moves_the_view(qtbot, opened):
    canvas, navigator = opened.canvas, opened.canvas.navigator
    assert not navigator.isVisible()  # the whole photo fits: nothing to navigate
    canvas.set_zoom(12.0)
    canvas.centerOn(10, 10)
    assert navigator.isVisible()
    width, height = canvas.image_size
    assert max(navigator.width(), navigator.height()) <= 180 + 8
    # A click on the overview's lower right quarter brings that part of the photo into view.
    target = QPoint(round(navigator.width() * 0.75), round(navigator.height() * 0.75))
    qtbot.mouseClick(navigator, Qt.MouseButton.LeftButton, pos=target)
    centre = canvas.visible_photo().center()
    assert abs(centre.x() - 0.75 * width) < 0.08 * width and abs(centre.y() - 0.75 * height) < 0.08 * height
    opened.actions_.show_navigator.trigger()  # off
    assert not navigator.isVisible()
    opened.actions_.show_navigator.trigger()
    assert navigator.isVisible()
    canvas.fit()
    assert not navigator.isVisible()
