"""The description box: what it holds is visible, it never swallows the review shortcuts, and
it belongs to one photograph."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from restorer_app.engine.pipeline import AUTO

from gui_helpers import run_fill


def _type_description(qtbot, window, text: str) -> None:
    window.activateWindow()
    qtbot.waitActive(window)
    assert window.panel.select_method(AUTO) and window.panel.description.isEnabled()
    window.panel.description.setFocus()
    QTest.keyClicks(window.panel.description, text)


def test_after_fill_accept_and_discard_the_next_shortcut_reaches_the_canvas(qtbot, opened):
    _type_description(qtbot, opened, "clear sky")
    run_fill(qtbot, opened)  # as Ctrl+Return or the Fill button would, with the description focused
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y)
    assert opened.actions_.split.isChecked()  # the split view, not a "Y" in the description
    assert opened.panel.description.text() == "clear sky"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y)
    assert not opened.actions_.split.isChecked()
    for review in (opened.discard_fill, opened.accept_fill):
        opened.panel.description.setFocus()
        review()
        assert QApplication.focusWidget() is opened.canvas
        if review is opened.discard_fill:
            run_fill(qtbot, opened)
    assert opened.panel.description.text() == "clear sky"


def test_a_description_in_force_is_shown_and_a_new_photo_starts_without_one(qtbot, opened, photo_file):
    panel = opened.panel
    assert panel.description_hint.isHidden()
    _type_description(qtbot, opened, "clear sky")
    assert panel.description_hint.isVisible()
    assert "'clear sky'" in panel.description_hint.text() and "until you clear it" in panel.description_hint.text()
    assert panel.select_method("telea")  # a method that ignores descriptions: none is in force
    assert panel.description_hint.isHidden()
    assert panel.select_method(AUTO) and panel.description_hint.isVisible()
    assert opened.open_path(photo_file)
    assert panel.description.text() == "" and panel.description_hint.isHidden()
