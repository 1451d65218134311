"""Autosave every few seconds after a change, deleted on a clean quit; recovery offered at start."""

from __future__ import annotations

import io
import json
import os
import zipfile
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from restorer_app.engine.project import Project, load_project, save_project
from restorer_app.engine.files import sha256_file
from restorer_app.gui import dialogs
from restorer_app.gui import editor as editor_module
from restorer_app.gui.main_window import MainWindow

from gui_helpers import damage_mask, fill_and_accept, make_photo_pixels, paint


def autosave_now(qtbot, window) -> None:
    with qtbot.waitSignal(window.autosaver.saved, timeout=10_000):
        window.autosaver.save_now()


def session_files(data_dir):
    return sorted((data_dir / "autosave").glob("session-*.restorer"))


def test_default_interval_is_five_seconds(window, data_dir):
    assert window.autosaver.timer.interval() == 5000 and window.autosaver.timer.isActive()
    assert window.autosaver.folder == data_dir / "autosave"


def test_a_change_is_autosaved_on_the_next_tick_and_nothing_without_one(qtbot, opened, data_dir):
    saver = opened.autosaver
    saver.set_interval(10)
    assert not saver.dirty  # opening a photo is not work to recover
    paint(opened, [(5, 5), (20, 5)], diameter=4)
    assert saver.dirty
    with qtbot.waitSignal(saver.saved, timeout=10_000) as written:
        pass  # the timer writes it
    assert written.args == [saver.path] and session_files(data_dir) == [saver.path]
    saved = load_project(saver.path)
    np.testing.assert_array_equal(saved.mask, opened.editor.document.mask)
    assert not saver.dirty
    stamp = saver.path.stat().st_mtime_ns
    saver._write_if_due()  # a tick with no change writes nothing
    assert not saver.busy and saver.path.stat().st_mtime_ns == stamp


class _DoneAtOnce:
    """An executor whose jobs are finished before ``submit`` returns: the extreme of a writer
    thread that beats the GUI thread (seen under load, when autosave then stopped for good)."""

    def submit(self, function, *args):
        future = Future()
        try:
            future.set_result(function(*args))
        except Exception as error:  # noqa: BLE001 - handed on like a thread pool would
            future.set_exception(error)
        return future

    def shutdown(self, wait=True):
        pass


def test_a_write_that_ends_before_the_gui_thread_looks_still_counts(qtbot, opened):
    saver = opened.autosaver
    saver._executor = _DoneAtOnce()
    for stroke in ([(5, 5), (20, 5)], [(5, 30), (20, 30)]):
        paint(opened, stroke, diameter=4)
        autosave_now(qtbot, opened)
        assert not saver.busy
        np.testing.assert_array_equal(load_project(saver.path).mask, opened.editor.document.mask)


def test_autosave_holds_accepted_fills_and_unaccepted_strokes(qtbot, opened, photo_file):
    after = fill_and_accept(qtbot, opened)
    paint(opened, [(10, 70), (50, 75)], diameter=5)
    autosave_now(qtbot, opened)
    saved = load_project(opened.autosaver.path)
    assert saved.source_path == photo_file and saved.source_sha256 == sha256_file(photo_file)
    assert saved.position == 1 and saved.steps[0].operation.method == "telea"
    np.testing.assert_array_equal(saved.mask, opened.editor.document.mask)
    np.testing.assert_array_equal(saved.render(make_photo_pixels()), after)


def test_clean_quit_deletes_the_autosave_and_its_lock(qtbot, opened, data_dir):
    paint(opened, [(5, 5), (20, 5)])
    autosave_now(qtbot, opened)
    path = opened.autosaver.path
    assert path.exists() and path.with_suffix(".lock").exists()
    opened.close()
    assert list((data_dir / "autosave").iterdir()) == []


def test_replacing_the_document_deletes_the_autosave(qtbot, opened, photo_file, data_dir, dialog_recorder):
    fill_and_accept(qtbot, opened)
    autosave_now(qtbot, opened)
    dialog_recorder.save_answer = dialogs.SaveChoice.DISCARD
    assert opened.open_path(photo_file)
    qtbot.waitUntil(lambda: session_files(data_dir) == [])  # deleted on the writer thread, in order


def test_autosave_failure_shows_a_notice_once(qtbot, opened, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    opened.autosaver.path = blocked / "session-x.restorer"
    opened.autosaver.folder = blocked
    paint(opened, [(5, 5), (20, 5)])
    with qtbot.waitSignal(opened.autosaver.failed, timeout=10_000):
        opened.autosaver.save_now()
    assert "Autosave failed" in opened.notice_bar.text
    assert opened.autosaver.dirty  # tried again on the next tick
    opened.notice_bar.hide()
    with qtbot.waitSignal(opened.autosaver.failed, timeout=10_000):
        opened.autosaver.save_now()
    assert opened.notice_bar.text == ""  # once per failing streak, not every few seconds


# ------------------------------------------------------------------------ recovery


def write_orphan(data_dir, photo_file, steps=(), position=0, mask=None) -> Path:
    folder = data_dir / "autosave"
    folder.mkdir(exist_ok=True)
    project = Project(photo_file, sha256_file(photo_file), damage_mask() if mask is None else mask,
                      list(steps), position)
    return save_project(project, folder / "session-crashed.restorer")


def crashed_session(qtbot, window, data_dir, photo_file, mask_file):
    """A session with an accepted fill and a stroke, autosaved, as a crash would leave it."""
    window.open_path(photo_file, mask_file)
    window.panel.select_method("telea")
    after = fill_and_accept(qtbot, window)
    paint(window, [(10, 70), (50, 75)], diameter=5)
    mask = window.editor.document.mask.copy()
    autosave_now(qtbot, window)
    project = load_project(window.autosaver.path)
    return write_orphan(data_dir, photo_file, project.steps, project.position, project.mask), after, mask


def test_restore_brings_back_image_mask_and_history(qtbot, window, settings, data_dir, photo_file, mask_file,
                                                    dialog_recorder):
    orphan, after, mask = crashed_session(qtbot, window, data_dir, photo_file, mask_file)
    window.close()  # its own session file goes; the orphan stays
    assert session_files(data_dir) == [orphan]

    restarted = MainWindow(settings)
    qtbot.addWidget(restarted)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    with qtbot.waitSignal(restarted.autosaver.saved, timeout=10_000):
        assert restarted.offer_recovery()
    question = dialog_recorder.recovery_questions[0]
    assert question.startswith("Work on 'scan.png' autosaved at ") and "1 accepted fill and the painted mask" in question
    document = restarted.editor.document
    np.testing.assert_array_equal(document.image.pixels, after)
    np.testing.assert_array_equal(document.mask, mask)
    assert restarted.editor.is_modified  # recovered repairs are not saved anywhere yet
    restarted.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, make_photo_pixels())
    # The recovered work now lives in the new session's file; the orphan is gone.
    assert session_files(data_dir) == [restarted.autosaver.path]
    restarted.autosaver.save_now()
    restarted.editor.mark_saved()
    restarted.close()
    assert session_files(data_dir) == []


def test_discard_deletes_and_later_keeps_the_orphan(qtbot, window, data_dir, photo_file, dialog_recorder):
    orphan = write_orphan(data_dir, photo_file)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.LATER
    assert not window.offer_recovery()
    assert orphan.exists() and not orphan.with_suffix(".lock").exists()  # lock released for next time
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.DISCARD
    assert not window.offer_recovery()
    assert not orphan.exists() and window.editor.document is None
    assert len(dialog_recorder.recovery_questions) == 2
    assert window.offer_recovery() is False and len(dialog_recorder.recovery_questions) == 2


def test_a_running_sessions_autosave_is_never_offered(qtbot, opened, settings, dialog_recorder):
    paint(opened, [(5, 5), (20, 5)])
    autosave_now(qtbot, opened)  # this window is alive and holds its lock
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert not other.offer_recovery()
    assert dialog_recorder.recovery_questions == []
    other.close()


def _random_bytes(valid: bytes) -> bytes:
    return np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()


def _truncated(valid: bytes) -> bytes:
    return valid[: len(valid) // 2]  # a write cut short by a crash or a full disk


def _rewrite_project_json(text: str):
    def damage(valid: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(valid)) as source, zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                target.writestr(item, text if item.filename == "project.json" else source.read(item))
        return out.getvalue()
    return damage


def _source_path_of_wrong_type(valid: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(valid)) as source:
        meta = json.loads(source.read("project.json"))
    meta["source"]["path"] = 5
    return _rewrite_project_json(json.dumps(meta))(valid)


DAMAGES = {
    "random bytes": _random_bytes,
    "truncated zip": _truncated,
    "project.json not JSON": _rewrite_project_json("{not json"),
    "project.json a list": _rewrite_project_json("[]"),
    "source path a number": _source_path_of_wrong_type,
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_autosave_is_set_aside_once_and_the_start_goes_on(qtbot, settings, data_dir, photo_file,
                                                                 dialog_recorder, damage):
    valid = write_orphan(data_dir, photo_file)
    broken = valid.with_name("session-broken.restorer")
    broken.write_bytes(damage(valid.read_bytes()))
    # The damaged one is the newest, so it is read first; the older, readable one is still offered.
    os.utime(valid, (1_000_000_000, 1_000_000_000))
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert not window.offer_recovery()  # raised out of the start before
    kept = broken.with_name("session-broken.restorer.unreadable")
    assert kept.exists() and not broken.exists() and not broken.with_suffix(".lock").exists()
    assert kept.read_bytes() == damage(valid.read_bytes())  # kept as it was, for the user
    notice = window.notice_bar.text
    assert notice.startswith("An autosaved session could not be recovered:") and str(kept) in notice
    assert dialog_recorder.errors == []  # a notice, not a modal box at every start
    assert len(dialog_recorder.recovery_questions) == 1  # the readable one
    assert window.open_path(photo_file)  # the window works; the notice outlasts opening a photo
    assert window.notice_bar.text == notice
    assert not window.offer_recovery() and window.notice_bar.text == notice  # said once
    assert len(dialog_recorder.recovery_questions) == 2
    window.close()


def test_a_second_damaged_autosave_does_not_replace_the_first_one_set_aside(window, data_dir, dialog_recorder):
    folder = data_dir / "autosave"
    folder.mkdir()
    earlier = folder / "session-broken.restorer.unreadable"
    earlier.write_bytes(b"kept from an earlier start")
    (folder / "session-broken.restorer").write_bytes(b"garbage")
    assert not window.offer_recovery()
    assert earlier.read_bytes() == b"kept from an earlier start"
    assert (folder / "session-broken.restorer-2.unreadable").read_bytes() == b"garbage"
    assert "session-broken.restorer-2.unreadable" in window.notice_bar.text


def test_an_autosave_that_cannot_be_renamed_is_reported_and_the_start_goes_on(window, data_dir, dialog_recorder):
    folder = data_dir / "autosave"
    folder.mkdir()
    broken = folder / "session-broken.restorer"
    broken.write_bytes(b"garbage")
    folder.chmod(0o500)  # read-only folder: no rename possible
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        assert not window.offer_recovery()
    finally:
        folder.chmod(0o700)
    assert broken.exists() and "could not be renamed" in window.notice_bar.text
    assert dialog_recorder.errors == []


def test_a_recovered_session_that_cannot_be_replayed_is_set_aside(qtbot, window, data_dir, photo_file, mask_file,
                                                                  dialog_recorder, monkeypatch):
    orphan, _, _ = crashed_session(qtbot, window, data_dir, photo_file, mask_file)
    window.editor.mark_saved()
    assert window.open_path(photo_file)

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    # A huge scan's replay running out of memory as it reads a step's pixels off the photo.
    monkeypatch.setattr(editor_module, "FillPatch", out_of_memory)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    assert not window.offer_recovery()
    assert window.editor.document is None  # no half-replayed photo left on screen
    assert orphan.with_name(orphan.name + ".unreadable").exists()
    assert "MemoryError" in window.notice_bar.text


def test_restore_with_a_missing_source_offers_to_locate_it(qtbot, window, data_dir, photo_file, tmp_path,
                                                           dialog_recorder):
    orphan = write_orphan(data_dir, photo_file)
    moved = tmp_path / "elsewhere.png"
    photo_file.rename(moved)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    dialog_recorder.locate_answers.append(None)
    assert not window.offer_recovery()
    assert "is no longer in" in dialog_recorder.locate_sentences[0]
    assert orphan.exists()  # kept: it can still be restored once the photo is back
    dialog_recorder.locate_answers.append(moved)
    with qtbot.waitSignal(window.autosaver.saved, timeout=10_000):
        assert window.offer_recovery()
    np.testing.assert_array_equal(window.editor.document.mask, damage_mask())
    qtbot.waitUntil(lambda: not orphan.exists())


def test_restore_dialog_text(qtbot):
    box, restore, discard = dialogs.restore_session_box(None, "Work on 'scan.png' can be restored.")
    qtbot.addWidget(box)
    assert "Restorer did not close properly last time." in box.text()
    assert box.defaultButton() is restore and discard.text() == "Discard"


def _recover(qtbot, settings, dialog_recorder) -> MainWindow:
    restarted = MainWindow(settings)
    qtbot.addWidget(restarted)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    with qtbot.waitSignal(restarted.autosaver.saved, timeout=10_000):
        assert restarted.offer_recovery()
    return restarted


def test_save_after_recovery_keeps_the_recovered_mask_and_history_as_a_project(
        qtbot, window, settings, data_dir, photo_file, mask_file, tmp_path, dialog_recorder):
    _, after, mask = crashed_session(qtbot, window, data_dir, photo_file, mask_file)
    window.close()
    restarted = _recover(qtbot, settings, dialog_recorder)
    dialog_recorder.save_questions.clear()
    dialog_recorder.save_answer = dialogs.SaveChoice.SAVE
    project_path = tmp_path / "recovered.restorer"
    dialog_recorder.project_save_paths.append(project_path)
    assert restarted.open_path(photo_file)  # "save the recovered repairs first?" - Save
    assert dialog_recorder.save_questions == ["scan.png"]
    saved = load_project(project_path)  # a project, not an export of the photo that drops the mask
    np.testing.assert_array_equal(saved.mask, mask)
    np.testing.assert_array_equal(saved.render(make_photo_pixels()), after)
    assert saved.position == 1
    restarted.close()


def test_ctrl_s_after_recovery_saves_the_project_and_then_saves_to_it_again(
        qtbot, window, settings, data_dir, photo_file, mask_file, tmp_path, dialog_recorder):
    _, _, mask = crashed_session(qtbot, window, data_dir, photo_file, mask_file)
    window.close()
    restarted = _recover(qtbot, settings, dialog_recorder)
    project_path = tmp_path / "recovered.restorer"
    dialog_recorder.project_save_paths.append(project_path)
    restarted.actions_.save.trigger()
    assert not restarted.editor.is_modified
    paint(restarted, [(100, 10), (120, 12)], diameter=4)
    restarted.actions_.save.trigger()  # to the same project, without asking again
    assert load_project(project_path).mask[10, 105:115].all()
    dialog_recorder.save_questions.clear()
    assert restarted.open_path(photo_file)
    assert dialog_recorder.save_questions == []
    restarted.close()


def test_exporting_recovered_work_counts_as_saved(qtbot, window, settings, data_dir, photo_file, mask_file,
                                                   tmp_path, dialog_recorder):
    crashed_session(qtbot, window, data_dir, photo_file, mask_file)
    window.close()
    restarted = _recover(qtbot, settings, dialog_recorder)
    assert restarted.editor.is_modified
    assert restarted.save_as(tmp_path / "exported.png")
    dialog_recorder.save_questions.clear()
    assert restarted.open_path(photo_file)
    assert dialog_recorder.save_questions == []  # exported: nothing unsaved to ask about
    restarted.close()


def test_repairs_exported_before_a_crash_are_not_called_unsaved_after_recovery(
        qtbot, window, settings, data_dir, photo_file, mask_file, tmp_path, dialog_recorder):
    import shutil

    window.open_path(photo_file, mask_file)
    window.panel.select_method("telea")
    fill_and_accept(qtbot, window)
    assert window.save_as(tmp_path / "exported.png")  # the repair is safe in a file ...
    autosave_now(qtbot, window)
    assert load_project(window.autosaver.path).saved_steps == 1
    shutil.copy(window.autosaver.path, data_dir / "autosave" / "session-crashed.restorer")  # ... then a crash
    window.close()
    restarted = _recover(qtbot, settings, dialog_recorder)
    assert not restarted.editor.is_modified
    dialog_recorder.save_questions.clear()
    assert restarted.open_path(photo_file)
    assert dialog_recorder.save_questions == []  # nothing unsaved to ask about
    restarted.close()


def test_a_fill_after_the_export_is_still_unsaved_after_recovery(qtbot, window, settings, data_dir, photo_file,
                                                                 mask_file, tmp_path, dialog_recorder):
    import shutil

    window.open_path(photo_file, mask_file)
    window.panel.select_method("telea")
    fill_and_accept(qtbot, window)
    assert window.save_as(tmp_path / "exported.png")
    paint(window, [(10, 70), (50, 75)], diameter=5)
    fill_and_accept(qtbot, window)
    autosave_now(qtbot, window)
    assert load_project(window.autosaver.path).saved_steps == 1
    shutil.copy(window.autosaver.path, data_dir / "autosave" / "session-crashed.restorer")
    window.close()
    restarted = _recover(qtbot, settings, dialog_recorder)
    assert restarted.editor.is_modified
    restarted.editor.undo_stack.undo()  # back to what was exported
    assert not restarted.editor.is_modified
    restarted.close()
