"""Projects (.restorer): save and reopen with the mask and the undo history of accepted fills,
a missing or changed source, unsafe archives, the command line and drag and drop."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence

from restorer_app.engine.project import load_project
from restorer_app.gui import app, dialogs

from gui_helpers import fill_and_accept, paint


def build_history(qtbot, window):
    """Three accepted fills (the last one undone) and an unaccepted stroke; returns the pixel
    state after 0..3 fills, and the mask now."""
    document = window.editor.document
    states = [document.image.pixels.copy()]
    states.append(fill_and_accept(qtbot, window))
    paint(window, [(8, 8), (40, 20)], diameter=6)
    window.panel.select_method("ns")
    states.append(fill_and_accept(qtbot, window))
    paint(window, [(90, 70), (120, 90)], diameter=4)
    window.panel.select_method("telea")
    states.append(fill_and_accept(qtbot, window))
    window.actions_.undo.trigger()
    paint(window, [(5, 60), (30, 62)], diameter=3)  # marked, never filled
    return states, document.mask.copy()


def test_reopened_project_restores_image_mask_and_every_undo_state(qtbot, opened, tmp_path, dialog_recorder):
    states, mask_now = build_history(qtbot, opened)
    # The stroke after the undo dropped the redo of fill 3, as QUndoStack does.
    project_path = tmp_path / "work.restorer"
    dialog_recorder.project_save_paths.append(project_path)
    opened.actions_.save_project.trigger()
    assert project_path.is_file() and not opened.editor.is_modified

    opened.actions_.mask_clear.trigger()  # change things, then reopen
    dialog_recorder.project_open_paths.append(project_path)
    opened.actions_.open_project.trigger()
    document, stack = opened.editor.document, opened.editor.undo_stack
    np.testing.assert_array_equal(document.image.pixels, states[2])
    np.testing.assert_array_equal(document.mask, mask_now)
    assert document.project_path == project_path and not opened.editor.is_modified
    assert (stack.count(), stack.index()) == (2, 2)
    assert [op.method for op in document.operations] == ["telea", "ns"]
    for position in (1, 0):
        opened.actions_.undo.trigger()
        np.testing.assert_array_equal(document.image.pixels, states[position])
    assert document.mask[40:48, 60:68].all()  # undoing the first fill brought its damage marking back
    for position in (1, 2):
        opened.actions_.redo.trigger()
        np.testing.assert_array_equal(document.image.pixels, states[position])
    np.testing.assert_array_equal(document.mask, mask_now)


def test_redo_after_reopening_reaches_undone_fills(qtbot, opened, tmp_path):
    states = [opened.editor.document.image.pixels.copy(), fill_and_accept(qtbot, opened)]
    paint(opened, [(8, 8), (40, 20)], diameter=6)
    states.append(fill_and_accept(qtbot, opened))
    opened.editor.undo_stack.setIndex(0)  # both fills (and the stroke between) undone but redoable
    assert opened.save_project(tmp_path / "undone.restorer")
    assert load_project(tmp_path / "undone.restorer").position == 0

    assert opened.open_project(tmp_path / "undone.restorer")
    document = opened.editor.document
    np.testing.assert_array_equal(document.image.pixels, states[0])
    for position in (1, 2):
        opened.actions_.redo.trigger()
        np.testing.assert_array_equal(document.image.pixels, states[position])


def test_missing_source_is_explained_and_can_be_located(qtbot, opened, photo_file, tmp_path, dialog_recorder):
    after = fill_and_accept(qtbot, opened)
    project_path = tmp_path / "projects" / "work.restorer"
    project_path.parent.mkdir()
    assert opened.save_project(project_path)
    moved = tmp_path / "archive" / "scan-moved.png"
    moved.parent.mkdir()
    shutil.move(photo_file, moved)

    dialog_recorder.locate_answers.append(None)  # Cancel: nothing changes
    assert not opened.open_project(project_path)
    assert dialog_recorder.locate_sentences == [
        f"The photograph 'scan.png' this project repairs is no longer in {photo_file.parent}."]

    dialog_recorder.locate_answers.append(moved)
    assert opened.open_project(project_path)
    np.testing.assert_array_equal(opened.editor.document.image.pixels, after)
    assert opened.editor.document.path == moved
    assert dialog_recorder.errors == []


def test_source_beside_the_project_is_found_without_asking(qtbot, opened, photo_file, tmp_path):
    after = fill_and_accept(qtbot, opened)
    assert opened.save_project(tmp_path / "work.restorer")
    folder = tmp_path / "copied"
    folder.mkdir()
    shutil.move(photo_file, folder / "scan.png")
    shutil.move(tmp_path / "work.restorer", folder / "work.restorer")
    assert opened.open_project(folder / "work.restorer")  # the recorder fails if a dialog opens
    np.testing.assert_array_equal(opened.editor.document.image.pixels, after)


def test_changed_source_is_refused_unless_the_original_is_located(qtbot, opened, photo_file, tmp_path,
                                                                 dialog_recorder):
    fill_and_accept(qtbot, opened)
    assert opened.save_project(tmp_path / "work.restorer")
    original = tmp_path / "original-copy.png"
    shutil.copy(photo_file, original)
    pixels = np.asarray(Image.open(photo_file)).copy()
    pixels[0, 0] = (1, 2, 3)
    Image.fromarray(pixels).save(photo_file)

    dialog_recorder.locate_answers.append(photo_file)  # the changed file again: refused with a sentence
    assert not opened.open_project(tmp_path / "work.restorer")
    assert "has changed since the project was saved" in dialog_recorder.locate_sentences[0]
    assert dialog_recorder.errors == ["'scan.png' is not the photograph this project was made from "
                                      "(its checksum differs)."]
    dialog_recorder.locate_answers.append(original)
    assert opened.open_project(tmp_path / "work.restorer")
    assert opened.editor.document.path == original


@pytest.mark.parametrize("member", ["../escape.txt", "/etc/passwd"])
def test_zip_slip_project_is_refused_in_the_error_dialog(window, tmp_path, dialog_recorder, member):
    evil = tmp_path / "evil.restorer"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("project.json", json.dumps({"format": 1}))
        archive.writestr(member, "x")
    assert not window.open_project(evil)
    assert len(dialog_recorder.errors) == 1
    assert "points outside the project" in dialog_recorder.errors[0]
    assert window.editor.document is None and not (tmp_path.parent / "escape.txt").exists()


def test_oversized_project_is_refused_in_the_error_dialog(window, tmp_path, dialog_recorder):
    bomb = tmp_path / "bomb.restorer"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.json", json.dumps({"format": 1}))
        archive.writestr("mask.png", b"\0" * (8 << 20))
    assert not window.open_path(bomb)  # Open… takes projects too
    assert len(dialog_recorder.errors) == 1 and "oversized" in dialog_recorder.errors[0]


def test_project_of_another_photograph_is_refused(qtbot, opened, tmp_path, photo_file, dialog_recorder):
    fill_and_accept(qtbot, opened)
    assert opened.save_project(tmp_path / "work.restorer")
    other = tmp_path / "other.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(other)
    photo_file.unlink()
    dialog_recorder.locate_answers.append(other)
    assert not opened.open_project(tmp_path / "work.restorer")
    assert "not the photograph this project was made from" in dialog_recorder.errors[0]


def test_save_project_shortcut_and_menu(window):
    a = window.actions_
    assert a.save_project.shortcut() == QKeySequence("Ctrl+Alt+S")
    file_menu = window.menuBar().actions()[0].menu()
    texts = [action.text() for action in file_menu.actions()]
    assert "Save Pro&ject…" in texts and "Open &Project…" in texts
    assert not a.save_project.isEnabled()  # nothing open


def test_command_line_opens_a_project(qtbot, opened, tmp_path, monkeypatch):
    fill_and_accept(qtbot, opened)
    assert opened.save_project(tmp_path / "work.restorer")
    monkeypatch.setattr(dialogs, "_headless", False)  # main() switches it on; restore it afterwards
    assert app.main([str(tmp_path / "work.restorer"), "--self-test-quit"]) == 0
    (tmp_path / "broken.restorer").write_bytes(b"not a zip")
    assert app.main([str(tmp_path / "broken.restorer"), "--self-test-quit"]) == 1


def test_dropping_a_project_opens_it(qtbot, opened, tmp_path):
    after = fill_and_accept(qtbot, opened)
    assert opened.save_project(tmp_path / "work.restorer")
    opened.actions_.undo.trigger()
    opened.editor.mark_saved()  # no unsaved-repairs question in the way
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(tmp_path / "work.restorer"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    opened.dropEvent(event)
    np.testing.assert_array_equal(opened.editor.document.image.pixels, after)
