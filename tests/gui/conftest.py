"""GUI fixtures: offscreen Qt, isolated settings, no modal dialogs, no leaked threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from restorer_app.gui import dialogs, fill_worker
from restorer_app.gui.main_window import MainWindow

from gui_helpers import damage_mask, make_photo_pixels


@dataclass
class DialogRecorder:
    """Stands in for every modal dialog; tests read what would have been shown."""

    errors: list[str] = field(default_factory=list)
    save_questions: list[str] = field(default_factory=list)
    save_answer: dialogs.SaveChoice = dialogs.SaveChoice.DISCARD
    save_paths: list[Path | None] = field(default_factory=list)
    suggested_save: list[Path] = field(default_factory=list)

    def show_error(self, parent, error, title="Restorer") -> None:
        self.errors.append(dialogs.error_sentence(error))

    def ask_save_changes(self, parent, name) -> dialogs.SaveChoice:
        self.save_questions.append(name)
        return self.save_answer

    def choose_save_path(self, parent, suggested):
        self.suggested_save.append(suggested)
        if not self.save_paths:
            raise AssertionError("a Save dialog opened that the test did not expect")
        return self.save_paths.pop(0)


@pytest.fixture(autouse=True)
def qt_settings_in_tmp(tmp_path_factory, monkeypatch):
    """Default-constructed QSettings (as in main()) must not touch the user's real settings."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))


@pytest.fixture(autouse=True)
def dialog_recorder(monkeypatch) -> DialogRecorder:
    recorder = DialogRecorder()
    monkeypatch.setattr(dialogs, "show_error", recorder.show_error)
    monkeypatch.setattr(dialogs, "ask_save_changes", recorder.ask_save_changes)
    monkeypatch.setattr(dialogs, "choose_save_path", recorder.choose_save_path)
    monkeypatch.setattr(dialogs, "tell", lambda *args: None)
    for name in ("choose_image_to_open", "choose_mask_to_open", "choose_mask_save_path"):
        def unexpected(*args, _name=name):
            raise AssertionError(f"dialogs.{_name} opened during a test")
        monkeypatch.setattr(dialogs, name, unexpected)
    return recorder


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Set up before (so torn down after) the window: every fill thread must have ended."""
    yield
    assert fill_worker.running_threads() == []


@pytest.fixture
def photo_file(tmp_path) -> Path:
    path = tmp_path / "scan.png"
    Image.fromarray(make_photo_pixels()).save(path)
    return path


@pytest.fixture
def mask_file(tmp_path) -> Path:
    path = tmp_path / "scan_mask.png"
    Image.fromarray(damage_mask()).save(path)
    return path


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    main_window = MainWindow(settings)
    qtbot.addWidget(main_window)
    main_window.resize(900, 640)
    main_window.show()
    qtbot.waitExposed(main_window)
    yield main_window
    main_window.close()


@pytest.fixture
def opened(window, photo_file, mask_file):
    """The window with the test photo and its damage mask open, method Telea."""
    assert window.open_path(photo_file, mask_file)
    assert window.panel.select_method("telea")
    return window
