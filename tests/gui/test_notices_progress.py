"""Notices that never move the photo, the GPU notice once per run, and progress that says
what its bar shows."""

from __future__ import annotations

from restorer_app.engine.runtime import CUDA_FALLBACK_NOTICE
from restorer_app.gui.panel_widgets import duration_text, progress_text

from gui_helpers import run_fill


def test_a_notice_lies_over_the_canvas_and_never_moves_it(qtbot, opened):
    before = opened.canvas.geometry()
    opened.notices.show_fill(["A long notice that needs a line of its own."])
    assert opened.notice_bar.isVisible()
    assert opened.canvas.geometry() == before
    bar = opened.notice_bar.geometry()
    assert bar.top() == 0 and bar.width() == opened.centralWidget().width() and bar.height() > 10
    opened.notice_bar.hide()
    assert opened.canvas.geometry() == before


def test_the_no_gpu_notice_is_said_once_per_run_and_stays_in_the_status_bar(qtbot, opened):
    opened.notices.show_fill([CUDA_FALLBACK_NOTICE, "The description was ignored."])
    assert CUDA_FALLBACK_NOTICE in opened.notice_bar.text
    opened.notices.show_fill([CUDA_FALLBACK_NOTICE])
    assert not opened.notice_bar.isVisible()
    opened.notices.show_fill([CUDA_FALLBACK_NOTICE, "The description was ignored."])
    assert opened.notice_bar.text == "The description was ignored."
    opened.status.show_device("CPU (ONNX Runtime)", expected=False, fallback=True)
    assert opened.status.device.text() == "Device: CPU (ONNX Runtime) · no usable NVIDIA GPU"
    opened.status.show_device("CPU (OpenCV)", expected=False)
    assert opened.status.device.text().endswith("· no usable NVIDIA GPU")


def test_the_progress_label_shows_the_share_the_bar_shows_and_the_time_left():
    assert progress_text(0.03, "Region 70 of 121", 1.0) == "3 % · Region 70 of 121"
    assert progress_text(0.25, "Region 3 of 8", 10.0) == "25 %, about 30 s left · Region 3 of 8"
    assert progress_text(0.5, "Cancelling…", None) == "50 % · Cancelling…"
    assert progress_text(0.02, "", 30.0) == "2 %"  # too early to estimate
    assert [duration_text(s) for s in (0.2, 42, 130, 3900)] == ["1 s", "42 s", "2 min 10 s", "1 h 5 min"]


def test_a_fill_shows_its_share_in_the_label(qtbot, opened):
    labels = []
    opened.fills.progress.connect(lambda *_: labels.append(opened.panel.progress_label.text()))
    run_fill(qtbot, opened)
    assert labels and all(text.split(" %")[0].isdigit() for text in labels)
