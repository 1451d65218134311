"""GUI fixtures: offscreen Qt, isolated settings and data folder, no modal dialogs, no leaked threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from restorer_app.gui import autosave, dialogs, fill_worker
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
    #: Answers for the JPEG quality dialog (None = Cancel); the default offered is recorded.
    jpeg_answers: list[int | None] = field(default_factory=list)
    jpeg_defaults: list[int] = field(default_factory=list)
    #: Answers for "locate the source photograph" (None = Cancel); the sentence is recorded.
    locate_answers: list[Path | None] = field(default_factory=list)
    locate_sentences: list[str] = field(default_factory=list)
    recovery_answer: dialogs.RecoveryChoice = dialogs.RecoveryChoice.LATER
    recovery_questions: list[str] = field(default_factory=list)
    project_save_paths: list[Path | None] = field(default_factory=list)
    #: Answers for "replace the existing file?" (True = Replace); the paths asked about.
    replace_answers: list[bool] = field(default_factory=list)
    replace_questions: list[Path] = field(default_factory=list)

    def confirm_replace(self, parent, path) -> bool:
        self.replace_questions.append(Path(path))
        return _answer(self.replace_answers, "Replace File")
    #: Answers for "undo back to before this step?" (True = Yes); the sentences asked.
    undo_back_answers: list[bool] = field(default_factory=list)
    undo_back_questions: list[str] = field(default_factory=list)

    def ask_undo_back(self, parent, sentence) -> bool:
        self.undo_back_questions.append(sentence)
        return _answer(self.undo_back_answers, "Remove step")
    project_open_paths: list[Path | None] = field(default_factory=list)

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

    def ask_jpeg_quality(self, parent, quality=dialogs.DEFAULT_JPEG_QUALITY):
        self.jpeg_defaults.append(quality)
        return _answer(self.jpeg_answers, "JPEG quality")

    def locate_source(self, parent, sentence, name, folder=""):
        self.locate_sentences.append(sentence)
        return _answer(self.locate_answers, "Locate photograph")

    def ask_restore_session(self, parent, summary) -> dialogs.RecoveryChoice:
        self.recovery_questions.append(summary)
        return self.recovery_answer

    def choose_project_save_path(self, parent, suggested):
        return _answer(self.project_save_paths, "Save Project")

    def choose_project_to_open(self, parent, folder=""):
        return _answer(self.project_open_paths, "Open Project")


def _answer(answers: list, dialog: str):
    if not answers:
        raise AssertionError(f"a {dialog} dialog opened that the test did not expect")
    return answers.pop(0)


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
    for name in ("ask_jpeg_quality", "locate_source", "ask_restore_session", "choose_project_save_path",
                 "choose_project_to_open", "confirm_replace", "ask_undo_back"):
        monkeypatch.setattr(dialogs, name, getattr(recorder, name))
    for name in ("choose_image_to_open", "choose_mask_to_open", "choose_mask_save_path", "choose_folder",
                 "choose_images"):
        def unexpected(*args, _name=name):
            raise AssertionError(f"dialogs.{_name} opened during a test")
        monkeypatch.setattr(dialogs, name, unexpected)
    return recorder


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch) -> Path:
    """Autosaves go to a fresh folder per test, never to the user's data folder."""
    folder = tmp_path_factory.mktemp("restorer-data")
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Set up before (so torn down after) the window: every fill and autosave thread must have ended."""
    yield
    assert fill_worker.running_threads() == []
    assert autosave.running_writers() == []


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
