"""FileFlow owns the document's life on disk without the window: it opens, saves and asks
through dialogs, and tells what happened through its signals."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from restorer_app.engine.pipeline import Inpainter
from restorer_app.gui.autosave import Autosaver
from restorer_app.gui.editor import Editor
from restorer_app.gui.file_flow import FileFlow
from restorer_app.gui.fill_controller import FillController


@pytest.fixture
def flow(qtbot, settings, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    editor = Editor(parent)
    autosaver = Autosaver(editor, parent, folder=tmp_path / "autosave")
    flow = FileFlow(parent, editor, FillController(Inpainter(), parent), autosaver, settings, lambda: False)
    messages: list[str] = []
    flow.message.connect(lambda text, _ms: messages.append(text))
    flow.messages = messages
    yield flow
    autosaver.shutdown()


def test_opening_and_saving_are_told_through_the_message_signal(flow, photo_file, mask_file, tmp_path):
    assert flow.open_path(photo_file, mask_file)
    assert flow.editor.document.path == photo_file
    assert flow.messages[-1] == "Opened scan.png"
    assert flow.recent.paths()[0] == photo_file.resolve()
    assert flow.save_as(tmp_path / "out.png")
    assert flow.messages[-1].startswith("Saved out.png with its provenance record")


def test_a_document_without_changes_is_dropped_without_a_question(flow, photo_file, mask_file, dialog_recorder):
    assert flow.open_path(photo_file, mask_file)
    assert flow.open_path(photo_file)  # painting a mask is no change to the photo
    assert dialog_recorder.save_questions == []


def test_a_damaged_project_is_one_sentence_and_keeps_the_document(flow, photo_file, tmp_path, dialog_recorder):
    assert flow.open_path(photo_file)
    broken = tmp_path / "broken.restorer"
    broken.write_bytes(b"not a project")
    assert not flow.open_path(broken)
    assert len(dialog_recorder.errors) == 1 and flow.editor.document.path == photo_file
