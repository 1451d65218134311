"""The window tells where fills run (a session reporting CUDA proves the CUDA paths without a
GPU) and says at start, and on every automatic fill, when the learned model cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from restorer_app.engine.pipeline import Inpainter
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import CPU
from restorer_app.gui.main_window import MainWindow

from factories import FakeCudaOnnxRuntime, build_tiny_inpaint_model, tiny_entry, write_manifest
from gui_helpers import run_fill


@pytest.fixture
def tiny_models(tmp_path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_inpaint_model(folder / "tiny.onnx")
    write_manifest(folder, [tiny_entry(folder)])
    return folder


def _window(qtbot, settings, folder: Path) -> MainWindow:
    window = MainWindow(settings, Inpainter(ModelRegistry([folder])))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_session_on_cuda_shows_cuda_before_and_after_the_fill(qtbot, settings, tiny_models, monkeypatch,
                                                                  photo_file, mask_file):
    FakeCudaOnnxRuntime(monkeypatch)
    window = _window(qtbot, settings, tiny_models)
    assert window.open_path(photo_file, mask_file) and window.panel.select_method("auto")
    assert window.status.device.text() == "Expected device: CUDA (ONNX Runtime)"
    run_fill(qtbot, window)
    assert window.status.device.text() == "Device: CUDA (ONNX Runtime)"
    assert "CPU" not in window.notice_bar.text
    window.discard_fill()
    window.close()


def test_cuda_that_does_not_start_is_a_notice_in_the_window(qtbot, settings, tiny_models, monkeypatch,
                                                            photo_file, mask_file):
    FakeCudaOnnxRuntime(monkeypatch, reported=(CPU,))
    window = _window(qtbot, settings, tiny_models)
    assert window.open_path(photo_file, mask_file) and window.panel.select_method("auto")
    run_fill(qtbot, window)
    assert window.status.device.text() == "Device: CPU (ONNX Runtime) · no usable NVIDIA GPU"
    assert "running on the CPU" in window.notice_bar.text
    window.discard_fill()
    run_fill(qtbot, window)  # said once per run; the status bar keeps saying it
    assert "running on the CPU" not in window.notice_bar.text
    assert window.status.device.text().endswith("no usable NVIDIA GPU")
    window.discard_fill()
    window.close()


def test_a_truncated_model_is_named_at_start_and_on_the_automatic_fill(qtbot, settings, tiny_models,
                                                                       photo_file, mask_file):
    model = tiny_models / "tiny.onnx"
    model.write_bytes(model.read_bytes()[:-50])
    window = _window(qtbot, settings, tiny_models)
    assert "tiny" in window.notice_bar.text and "truncated" in window.notice_bar.text
    assert "Automatic fills use Telea" in window.notice_bar.text
    assert window.open_path(photo_file, mask_file)  # the notice outlasts opening a photo
    assert "truncated" in window.notice_bar.text
    assert window.panel.select_method("auto") and "Telea" in window.panel.fill_options().method.label
    assert window.status.device.text() == "Expected device: CPU (OpenCV)"
    run_fill(qtbot, window)
    assert window.editor.document.pending.result.method_id == "telea"
    assert "truncated" in window.notice_bar.text and "Used the Telea fill instead" in window.notice_bar.text
    window.discard_fill()
    window.close()
