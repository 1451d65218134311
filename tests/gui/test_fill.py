"""Filling through the worker thread: results, the signal contract, cancel, accept, undo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from restorer_app.engine.imageio import load_image
from restorer_app.engine.pipeline import Inpainter, InpaintRequest
from restorer_app.gui.fill_worker import FillJob, FillWorker

from gui_helpers import DAMAGE, damage_mask, run_fill


def record_signals(worker: FillWorker) -> list[str]:
    """Signal names in emission order (direct connections run in the worker thread)."""
    seen: list[str] = []
    direct = Qt.ConnectionType.DirectConnection
    worker.started.connect(lambda: seen.append("started"), direct)
    worker.progress.connect(lambda *_: seen.append("progress") if seen[-1] != "progress" else None, direct)
    worker.returned.connect(lambda _: seen.append("returned"), direct)
    worker.errored.connect(lambda _: seen.append("errored"), direct)
    worker.cancelled.connect(lambda: seen.append("cancelled"), direct)
    worker.finished.connect(lambda: seen.append("finished"), direct)
    return seen


def test_fill_changes_pixels_inside_the_mask_only(qtbot, opened):
    original = opened.editor.document.image.pixels.copy()
    mask = opened.editor.document.mask.copy()
    run_fill(qtbot, opened)
    result = opened.editor.document.pending.result
    inside = mask > 0
    np.testing.assert_array_equal(result.pixels[~inside], original[~inside])
    assert np.abs(result.pixels[DAMAGE.slices].astype(int) - original[DAMAGE.slices]).sum() > 0
    assert not (result.pixels[DAMAGE.slices] == (255, 0, 0)).all(axis=2).any()  # the red is gone
    assert opened.status.device.text() == "Device: CPU (OpenCV)"
    # Under review nothing is written yet; Accept writes it.
    np.testing.assert_array_equal(opened.editor.document.image.pixels, original)
    opened.actions_.accept.trigger()
    np.testing.assert_array_equal(opened.editor.document.image.pixels, result.pixels)
    assert not opened.editor.document.mask.any()
    assert opened.editor.is_modified and opened.isWindowModified()


def test_worker_signals_follow_the_contract(qtbot, photo_file):
    worker = FillWorker(Inpainter(), load_image(photo_file), damage_mask(), InpaintRequest(method="telea"))
    seen = record_signals(worker)
    results = []
    worker.returned.connect(results.append, Qt.ConnectionType.DirectConnection)
    job = FillJob(worker)
    with qtbot.waitSignal(job.done, timeout=10_000):
        job.start()
    assert seen == ["started", "progress", "returned", "finished"]
    assert results[0].method_id == "telea" and results[0].changed_pixels == np.count_nonzero(damage_mask())
    assert job.thread.isFinished()


def test_cancel_before_the_first_region_never_returns(qtbot, photo_file):
    worker = FillWorker(Inpainter(), load_image(photo_file), damage_mask(), InpaintRequest(method="telea"))
    seen = record_signals(worker)
    job = FillJob(worker)
    job.cancel()
    with qtbot.waitSignal(job.done, timeout=10_000):
        job.start()
    assert seen == ["started", "cancelled", "finished"]


def test_engine_errors_arrive_as_errored_then_finished(qtbot, photo_file):
    wrong_size = np.zeros((10, 10), np.uint8)
    worker = FillWorker(Inpainter(), load_image(photo_file), wrong_size, InpaintRequest(method="telea"))
    seen = record_signals(worker)
    errors = []
    worker.errored.connect(errors.append, Qt.ConnectionType.DirectConnection)
    job = FillJob(worker)
    with qtbot.waitSignal(job.done, timeout=10_000):
        job.start()
    assert seen == ["started", "errored", "finished"]
    assert "a mask must have the photo's size" in str(errors[0])


def test_cancel_in_the_middle_of_many_regions_leaves_the_photo_unchanged(qtbot, window, tmp_path, dialog_recorder,
                                                                        monkeypatch):
    from PIL import Image

    rng = np.random.default_rng(3)
    big = rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)
    mask = np.zeros((600, 800), np.uint8)
    mask[10::30, 10::30] = 255  # 20 x 27 specks of dust, each its own region
    Image.fromarray(big).save(tmp_path / "dusty.png")
    Image.fromarray(mask).save(tmp_path / "dusty_mask.png")
    assert window.open_path(tmp_path / "dusty.png", tmp_path / "dusty_mask.png")
    window.panel.select_method("telea")
    outcomes, reports = [], []

    def watch(job):  # connected before the thread starts, so no signal can be missed
        worker = job.worker
        worker.returned.connect(lambda _: outcomes.append("returned"), Qt.ConnectionType.DirectConnection)
        worker.cancelled.connect(lambda: outcomes.append("cancelled"), Qt.ConnectionType.DirectConnection)

        def cancel_after_a_few_regions(fraction, message):
            reports.append(fraction)
            if len(reports) == 5:
                job.cancel()  # thread-safe: only sets the token's flag

        worker.progress.connect(cancel_after_a_few_regions, Qt.ConnectionType.DirectConnection)
        real_start(job)

    real_start = FillJob.start
    monkeypatch.setattr(FillJob, "start", watch)
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.fill()
    assert outcomes == ["cancelled"]
    assert 0 < max(reports) < 1.0  # it really stopped in the middle
    assert window.editor.document.pending is None
    np.testing.assert_array_equal(window.editor.document.image.pixels, big)
    assert dialog_recorder.errors == []
    assert window.actions_.fill.isEnabled() and not window.actions_.cancel_fill.isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()


def test_closing_during_a_fill_waits_for_the_thread(qtbot, window, tmp_path):
    from PIL import Image

    big = np.random.default_rng(4).integers(0, 255, (800, 800, 3), dtype=np.uint8)
    mask = np.zeros((800, 800), np.uint8)
    mask[5::20, 5::20] = 255
    Image.fromarray(big).save(tmp_path / "big.png")
    Image.fromarray(mask).save(tmp_path / "big_mask.png")
    window.open_path(tmp_path / "big.png", tmp_path / "big_mask.png")
    window.panel.select_method("telea")
    assert window.fill()
    thread = window.fill_job.thread
    window.close()
    assert thread.isFinished()
    assert window.fill_job is None


def test_accepted_fill_undo_and_redo_restore_exact_arrays(qtbot, opened):
    document = opened.editor.document
    pixels_before, mask_before = document.image.pixels.copy(), document.mask.copy()
    run_fill(qtbot, opened)
    filled = document.pending.result.pixels.copy()
    opened.accept_fill()
    assert opened.actions_.undo.text() == "&Undo Fill (Telea (classical))"
    opened.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, pixels_before)
    np.testing.assert_array_equal(document.mask, mask_before)
    assert not opened.editor.is_modified
    opened.actions_.redo.trigger()
    np.testing.assert_array_equal(document.image.pixels, filled)
    assert not document.mask.any()
    assert opened.editor.is_modified


def test_an_accepted_fill_keeps_only_the_pixels_it_changed(qtbot, opened):
    document = opened.editor.document
    height, width = document.size
    mask = np.zeros((height, width), np.uint8)
    mask[5, 2:width - 2] = 255  # two thin scratches whose box is nearly the whole photo
    mask[2:height - 2, width - 6] = 255
    opened.editor.mark(mask, "Mark the scratches")
    before = document.image.pixels.copy()
    run_fill(qtbot, opened)
    opened.accept_fill()
    (command,) = opened.editor.fill_commands()[0]
    patch = command.patch
    holes = int((mask > 0).sum())
    assert patch.box.area > 20 * holes
    assert patch.old_values.shape == patch.new_values.shape == (holes, before.shape[2])
    np.testing.assert_array_equal(patch.old_values, before[mask > 0])
    np.testing.assert_array_equal(patch.new_values, document.image.pixels[mask > 0])
    assert command.step.values.shape == (holes, before.shape[2])  # what autosaves and projects keep
    after = document.image.pixels.copy()
    opened.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, before)
    opened.actions_.redo.trigger()
    np.testing.assert_array_equal(document.image.pixels, after)


def test_discard_keeps_photo_and_mask(qtbot, opened):
    document = opened.editor.document
    pixels_before, mask_before = document.image.pixels.copy(), document.mask.copy()
    run_fill(qtbot, opened)
    assert opened.actions_.accept.isEnabled() and not opened.actions_.fill.isEnabled()
    assert not opened.actions_.undo.isEnabled()  # the result belongs to this exact mask
    opened.actions_.discard.trigger()
    assert document.pending is None
    np.testing.assert_array_equal(document.image.pixels, pixels_before)
    np.testing.assert_array_equal(document.mask, mask_before)
    assert opened.actions_.fill.isEnabled()


def test_fill_with_an_empty_mask_explains_instead_of_starting(window, photo_file):
    window.open_path(photo_file)
    assert not window.fill()
    assert "paint over the damage" in window.statusBar().currentMessage()


class NoticeInpainter(Inpainter):
    def inpaint(self, image, mask, request, progress=None):
        result = super().inpaint(image, mask, request, progress)
        result.notices.append("No usable NVIDIA GPU was found; Restorer is running on the CPU.")
        return result


@pytest.fixture
def notice_window(qtbot, settings):
    from restorer_app.gui.main_window import MainWindow

    window = MainWindow(settings, inpainter=NoticeInpainter())
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def test_fill_notices_show_without_a_modal_dialog(qtbot, notice_window, photo_file, mask_file, dialog_recorder):
    notice_window.open_path(photo_file, mask_file)
    run_fill(qtbot, notice_window)
    assert "running on the CPU" in notice_window.notice_bar.text
    assert dialog_recorder.errors == []
    notice_window.discard_fill()
    assert notice_window.notice_bar.text == ""


def test_enter_accepts_and_escape_discards(qtbot, opened):
    opened.activateWindow()
    qtbot.waitActive(opened)
    run_fill(qtbot, opened)
    QTest.keyClick(opened.canvas, Qt.Key.Key_Escape)
    assert opened.editor.document.pending is None and not opened.editor.is_modified
    run_fill(qtbot, opened)
    QTest.keyClick(opened.canvas, Qt.Key.Key_Return)
    assert opened.editor.document.pending is None and opened.editor.is_modified


def test_ctrl_return_starts_a_fill(qtbot, opened):
    opened.activateWindow()
    qtbot.waitActive(opened)
    with qtbot.waitSignal(opened.fill_done, timeout=10_000):
        QTest.keyClick(opened.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert opened.editor.document.pending is not None


def test_soft_edge_setting_reaches_the_fill_and_is_recorded(qtbot, opened):
    original = opened.editor.document.image.pixels.copy()
    mask = opened.editor.document.mask.copy()
    opened.panel.soft_edge_spin.setValue(3)
    run_fill(qtbot, opened)
    pending = opened.editor.document.pending
    assert pending.request.feather == 3
    inside = mask > 0
    np.testing.assert_array_equal(pending.result.pixels[~inside], original[~inside])
    hard = Inpainter().inpaint(opened.editor.document.image, mask, InpaintRequest(method=pending.request.method))
    assert not np.array_equal(pending.result.pixels[inside], hard.pixels[inside])
    opened.actions_.accept.trigger()
    assert opened.editor.document.operations[-1].feather == 3
