"""Opening, saving, recent files, drag and drop, and the unsaved-repairs warning."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from restorer_app.engine.imageio import load_image
from restorer_app.engine.masks import load_mask
from restorer_app.gui.dialogs import choose_mask_save_path as REAL_CHOOSE_MASK_SAVE_PATH
from restorer_app.gui.dialogs import choose_project_save_path as REAL_CHOOSE_PROJECT_SAVE_PATH
from restorer_app.gui.recent_files import MAX_RECENT, RecentFiles

from gui_helpers import run_fill


def fill_and_accept(qtbot, window) -> np.ndarray:
    run_fill(qtbot, window)
    window.accept_fill()
    return window.editor.document.image.pixels.copy()


def test_save_as_writes_the_accepted_pixels_beside_the_original(qtbot, opened, photo_file, dialog_recorder):
    accepted = fill_and_accept(qtbot, opened)
    target = photo_file.with_name("scan_restored.png")
    dialog_recorder.save_paths.append(target)
    assert opened.actions_.save_as.isEnabled()
    opened.actions_.save_as.trigger()
    assert dialog_recorder.suggested_save == [target]  # <stem>_restored.<ext> by default
    np.testing.assert_array_equal(load_image(target).pixels, accepted)
    assert not opened.editor.is_modified and not opened.isWindowModified()


def test_save_as_refuses_the_original_and_leaves_it_untouched(qtbot, opened, photo_file, dialog_recorder):
    original_bytes = photo_file.read_bytes()
    fill_and_accept(qtbot, opened)
    assert not opened.save_as(photo_file)
    assert len(dialog_recorder.errors) == 1
    assert "Refusing to overwrite the original" in dialog_recorder.errors[0]
    assert photo_file.read_bytes() == original_bytes
    assert opened.editor.is_modified  # nothing was saved


def test_a_name_completed_with_an_extension_asks_before_replacing_a_file(qtbot, opened, photo_file,
                                                                        dialog_recorder):
    fill_and_accept(qtbot, opened)
    existing = photo_file.with_name("restored.png")  # the dialog saw "restored", never this file
    existing.write_bytes(b"someone else's work")
    dialog_recorder.save_paths.append(photo_file.with_name("restored"))
    dialog_recorder.replace_answers.append(False)
    assert not opened.save_as()
    assert dialog_recorder.replace_questions == [existing]
    assert existing.read_bytes() == b"someone else's work" and opened.editor.is_modified
    dialog_recorder.replace_answers.append(True)
    assert opened.save_as(photo_file.with_name("restored"))
    assert load_image(existing).pixels.shape == opened.editor.document.image.pixels.shape


def test_mask_and_project_names_completed_with_an_extension_ask_too(qtbot, opened, tmp_path, dialog_recorder,
                                                                    monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    for typed, completed, choose in ((tmp_path / "m", tmp_path / "m.png", REAL_CHOOSE_MASK_SAVE_PATH),
                                     (tmp_path / "p", tmp_path / "p.restorer", REAL_CHOOSE_PROJECT_SAVE_PATH)):
        completed.write_bytes(b"keep")
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, _t=typed: (str(_t), "")))
        dialog_recorder.replace_answers.append(False)
        assert choose(opened, tmp_path / "x") is None
        dialog_recorder.replace_answers.append(True)
        assert choose(opened, tmp_path / "x") == completed
    assert dialog_recorder.replace_questions == [tmp_path / "m.png"] * 2 + [tmp_path / "p.restorer"] * 2


def test_save_reuses_the_last_save_as_target(qtbot, opened, tmp_path, dialog_recorder):
    fill_and_accept(qtbot, opened)
    target = tmp_path / "out.png"
    assert opened.save_as(target)
    first = target.stat().st_mtime_ns
    opened.editor.begin_stroke(3, 3, 5, erase=False)  # mark a second repair
    opened.editor.end_stroke()
    second = fill_and_accept(qtbot, opened)
    assert opened.save()  # no dialog: the recorder would raise if one opened
    assert target.stat().st_mtime_ns >= first
    np.testing.assert_array_equal(load_image(target).pixels, second)


def test_opening_another_photo_with_unsaved_repairs_asks_first(qtbot, opened, tmp_path, dialog_recorder):
    fill_and_accept(qtbot, opened)
    other = tmp_path / "other.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(other)
    dialog_recorder.save_answer = dialog_recorder.save_answer.CANCEL
    assert not opened.open_path(other)
    assert dialog_recorder.save_questions == ["scan.png"]
    assert opened.editor.document.display_name == "scan.png"
    dialog_recorder.save_answer = dialog_recorder.save_answer.DISCARD
    assert opened.open_path(other)
    assert opened.editor.document.size == (20, 30)


def test_unreadable_file_shows_one_sentence_and_keeps_the_window(window, tmp_path, dialog_recorder):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert not window.open_path(broken)
    assert len(dialog_recorder.errors) == 1
    assert "broken.jpg" in dialog_recorder.errors[0] and "Traceback" not in dialog_recorder.errors[0]
    assert window.editor.document is None


def test_mask_of_the_wrong_size_is_refused_with_a_sentence(opened, tmp_path, dialog_recorder):
    small = tmp_path / "small_mask.png"
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(small)
    before = opened.editor.document.mask.copy()
    assert not opened.load_mask(small)
    assert "must have the photo's size" in dialog_recorder.errors[0]
    np.testing.assert_array_equal(opened.editor.document.mask, before)


def test_mask_saves_and_loads_back(opened, tmp_path):
    path = tmp_path / "saved_mask.png"
    expected = opened.editor.document.mask.copy()
    assert opened.save_mask(path)
    np.testing.assert_array_equal(load_mask(path), expected)
    opened.actions_.mask_clear.trigger()
    assert opened.load_mask(path)
    np.testing.assert_array_equal(opened.editor.document.mask, expected)
    opened.actions_.undo.trigger()
    assert not opened.editor.document.mask.any()


def test_dropping_an_image_file_opens_it(window, photo_file):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(photo_file))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.editor.document is not None and window.editor.document.path == photo_file


def test_recent_files_are_newest_first_capped_and_pruned(settings, tmp_path):
    recent = RecentFiles(settings)
    files = []
    for index in range(MAX_RECENT + 2):
        path = tmp_path / f"p{index}.png"
        path.write_bytes(b"x")
        files.append(path)
        recent.add(path)
    paths = recent.paths()
    assert paths[0] == files[-1].resolve() and len(paths) == MAX_RECENT
    files[-1].unlink()
    assert files[-1].resolve() not in recent.paths()
    assert len(RecentFiles(settings).paths()) == MAX_RECENT - 1  # the pruning was stored


def test_open_recent_menu_lists_opened_files(window, photo_file):
    window.open_path(photo_file)
    window._fill_recent_menu()
    texts = [action.text() for action in window.recent_menu.actions()]
    assert any("scan.png" in text for text in texts)
