"""Restoring the whole photo in the window: the Restore step comes first when a restoration
model is installed, its sliders show the estimate while on Auto, the preview restores only the
visible part and leaves the photo alone, Restore is reviewed like a fill (accept is one undo
step, discard changes nothing), later fills work on the restored pixels, and projects,
autosaves and scripts keep it."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from restorer_app.engine.image_formats import HISTORY_KEY
from restorer_app.engine.imageio import load_image
from restorer_app.engine.pipeline import Inpainter
from restorer_app.engine.photo_models import RestoreRunner
from restorer_app.engine.project import load_project
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.restoration import PhotoRestorer, RestoreOptions
from restorer_app.engine.runtime import Device
from restorer_app.gui.document import PendingRestore
from restorer_app.gui.main_window import MainWindow
from restorer_app.gui.operations import RESTORE
from restorer_app.gui.project_flow import recovery_summary
from restorer_app.engine.regions import Box
from restorer_app.gui.restore_flow import PREVIEW_MARGIN, preview_area, preview_pieces
from restorer_app.gui.script_runner import ScriptRunner

from factories import build_tiny_restore3_model, make_photo, restore3_entry, write_manifest
from gui_helpers import paint

HEIGHT, WIDTH = 300, 400
#: The tiny model adds SHIFT x strength to every channel, so a restored pixel tells which
#: strengths it was made with; its estimate ("levels") is the mean of each channel.
SHIFT = 0.125
MANUAL = RestoreOptions(denoise=1.0, deblock=0.0, sharpen=0.0, colour=False)


@pytest.fixture
def restore_registry(tmp_path) -> ModelRegistry:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_restore3_model(folder / "restore3.onnx", shift=SHIFT)
    write_manifest(folder, [restore3_entry(folder)])
    return ModelRegistry([folder])


@pytest.fixture
def scan(tmp_path):
    path = tmp_path / "faded.png"
    Image.fromarray(make_photo(HEIGHT, WIDTH)).save(path)
    return path


def make_window(qtbot, settings, registry) -> MainWindow:
    window = MainWindow(settings, Inpainter(registry))
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, settings, restore_registry, scan):
    main_window = make_window(qtbot, settings, restore_registry)
    assert main_window.open_path(scan)
    qtbot.waitUntil(lambda: main_window.restoration.measure is not None, timeout=20_000)
    yield main_window
    main_window.close()


def expected(registry: ModelRegistry, pixels: np.ndarray, options: RestoreOptions) -> np.ndarray:
    return PhotoRestorer(registry.open("tiny-restore3", Device.CPU)).restore(pixels, options).pixels


def set_options(window, options: RestoreOptions) -> None:
    section = window.panel.restore_section
    for name, value in zip(("denoise", "deblock", "sharpen"), options.given()):
        section.strengths[name].set_value(value)
    section.colour_check.setChecked(options.colour)


def run_restore(qtbot, window) -> None:
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.restore()


def test_the_restore_step_comes_first_only_with_a_restore_model(qtbot, window, settings, tmp_path, scan):
    assert window.panel.steps[0] is RESTORE and window.panel.restore_section is not None
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Repair")
    texts = [action.text() for action in menu.actions()]
    assert texts.index("Restore &Photo") < texts.index("&Fill")
    assert window.actions_.restore.isEnabled() and window.actions_.preview_restore.isEnabled()

    plain = make_window(qtbot, settings, ModelRegistry([tmp_path]))
    assert plain.open_path(scan)
    assert plain.panel.restore_section is None and RESTORE not in plain.panel.steps
    assert not plain.actions_.restore.isEnabled() and not plain.restore()
    plain.close()


def test_auto_sliders_show_the_estimate_greyed_and_manual_ones_the_users_value(window):
    section = window.panel.restore_section
    estimate = window.restoration.measure.estimate
    for name, control in section.strengths.items():
        assert control.auto.isChecked() and not control.slider.isEnabled()
        assert control.slider.value() == round(100 * getattr(estimate, name))
        assert control.value_label.text() == f"{control.slider.value()} %"
    assert section.options() == RestoreOptions(None, None, None, False)  # colour correction is asked for

    denoise = section.strengths["denoise"]
    denoise.auto.setChecked(False)  # starts from the estimate
    assert denoise.slider.isEnabled() and section.options().denoise == round(100 * estimate.denoise) / 100
    denoise.slider.setValue(30)
    assert section.options().denoise == 0.3 and denoise.value_label.text() == "30 %"
    denoise.auto.setChecked(True)
    assert section.options().denoise is None and denoise.slider.value() == round(100 * estimate.denoise)
    section.colour_check.setChecked(True)
    assert section.options().colour is True


def test_the_preview_restores_only_the_visible_part_and_leaves_the_photo_alone(qtbot, window, restore_registry,
                                                                               monkeypatch):
    seen: list[tuple[int, int]] = []  # the crops the restorer was given
    model_pixels: list[int] = []  # pixels the model restored (not those it estimated on)
    real_restore, real_run = PhotoRestorer.restore, RestoreRunner.run

    def restoring(self, pixels, *args, **kwargs):
        seen.append(pixels.shape[:2])
        return real_restore(self, pixels, *args, **kwargs)

    def running(self, inputs, *args, **kwargs):
        if "output" in kwargs.get("outputs", ["output"]):
            model_pixels.append(inputs["image"].shape[0] * inputs["image"].shape[1])
        return real_run(self, inputs, *args, **kwargs)

    monkeypatch.setattr(PhotoRestorer, "restore", restoring)
    monkeypatch.setattr(RestoreRunner, "run", running)
    document = window.editor.document
    photo = document.image.pixels.copy()
    set_options(window, MANUAL)
    window.canvas.set_zoom(8.0)
    window.canvas.centerOn(WIDTH / 2, HEIGHT / 2)
    with qtbot.waitSignal(window.restoration.preview_shown, timeout=20_000) as shown:
        window.actions_.preview_restore.setChecked(True)
    box = shown.args[0]
    visible = window.restoration._visible_box()
    assert 0 < box.width * box.height < HEIGHT * WIDTH / 4
    assert visible.x0 <= box.x0 and box.x1 <= visible.x1 and visible.y0 <= box.y0 and box.y1 <= visible.y1
    assert box.x0 == WIDTH // 2 and window.canvas.split_fraction == 0.5  # what the split view shows of it
    assert seen == [(box.height + 2 * PREVIEW_MARGIN, box.width + 2 * PREVIEW_MARGIN)]  # one run, of the view
    previewed = sum(model_pixels)
    restorer = PhotoRestorer(restore_registry.open("tiny-restore3", Device.CPU))
    model_pixels.clear()
    restorer.restore(photo, MANUAL)
    assert previewed < sum(model_pixels) / 4  # what Restore costs the model on the whole photo

    preview = window.restoration._buffer
    np.testing.assert_array_equal(preview[box.slices], expected(restore_registry, photo, MANUAL)[box.slices])
    outside = np.ones((HEIGHT, WIDTH), bool)
    outside[box.slices] = False
    np.testing.assert_array_equal(preview[outside], photo[outside])
    np.testing.assert_array_equal(document.image.pixels, photo)  # the photo itself is untouched
    assert window.editor.undo_stack.count() == 0 and not window.editor.is_modified
    assert window.canvas.split and window.canvas._after_tag == "Preview"
    assert not window.canvas._preview_frame.isVisible()  # all the view shows right of the divider
    assert window.canvas._after.display is window.layers.displays["preview"]
    assert window.panel.restore_section.preview_button.text() == "Preview of the visible part"
    assert "the visible part restored" in window.panel.restore_section.preview_note.text()

    seen.clear()
    with qtbot.waitSignal(window.restoration.preview_shown, timeout=20_000):
        window.panel.restore_section.strengths["denoise"].slider.setValue(0)  # all strengths 0: as it was
    np.testing.assert_array_equal(preview[box.slices], photo[box.slices])
    assert seen and seen[-1] == (box.height + 2 * PREVIEW_MARGIN, box.width + 2 * PREVIEW_MARGIN)

    window.actions_.preview_restore.setChecked(True)
    photo_file = window.editor.document.path
    assert window.open_path(photo_file)  # another photo: the preview goes with the old one
    assert window.restoration._buffer is None and not window.actions_.preview_restore.isChecked()
    assert window.canvas._after.display is window.layers.displays["current"]
    window.actions_.preview_restore.setChecked(True)
    window.actions_.preview_restore.setChecked(False)
    assert window.restoration._buffer is None and window.canvas._after_tag == "After"
    assert window.canvas._after.display is window.layers.displays["current"]


def test_a_preview_covers_the_view_right_of_the_divider_in_pieces_nearest_its_middle_first():
    area = preview_area(Box(-50, -20, 6050, 4020), 4000, 6000, split_x=3000, budget=800_000)
    assert area.x0 == 3000 and area.width * area.height <= 800_000  # beside the divider, never left of it
    assert abs((area.y0 + area.y1) / 2 - 2000) <= 1 and abs(area.width / area.height - 0.75) < 0.01
    pieces = preview_pieces(area, 4000, 6000, (area.x0, 2000), piece=160_000, margin=32)
    covered = np.zeros((4000, 6000), np.uint8)
    for shown, context in pieces:
        assert shown.width * shown.height <= 160_000
        assert context == shown.expanded(32, 4000, 6000)
        covered[shown.slices] += 1
    assert covered[area.slices].min() == 1 and covered.sum() == area.width * area.height  # each pixel once
    first = pieces[0][0]
    assert first.x0 == area.x0 and first.y0 <= 2000 <= first.y1  # the middle of the divider comes first
    whole = preview_area(Box(-10, -10, 90, 70), 60, 80)
    assert whole == Box(0, 0, 80, 60)  # no split view: all that is in view, clipped to the photo
    assert preview_area(Box(0, 0, 1000, 1000), 600, 600, budget=10_000) == Box(250, 250, 350, 350)


def test_restore_then_accept_changes_the_photo_in_one_undo_step(qtbot, window, restore_registry):
    document = window.editor.document
    photo = document.image.pixels.copy()
    paint(window, [(20, 20), (60, 20)], diameter=5)
    painted = document.mask.copy()
    set_options(window, MANUAL)
    run_restore(qtbot, window)
    assert isinstance(document.pending, PendingRestore)
    section = window.panel.restore_section
    assert section.review_box.isVisibleTo(window) and not window.panel.review_box.isVisibleTo(window)
    assert "Denoise 100 %" in section.review_summary.text() and not section.strengths["denoise"].slider.isEnabled()
    np.testing.assert_array_equal(document.image.pixels, photo)  # not before it is accepted
    count = window.editor.undo_stack.count()

    window.actions_.accept.trigger()
    restored = expected(restore_registry, photo, MANUAL)
    np.testing.assert_array_equal(document.image.pixels, restored)
    np.testing.assert_array_equal(document.mask, painted)  # a restore leaves the painted strokes
    assert window.editor.undo_stack.count() == count + 1
    assert window.editor.undo_stack.undoText() == "Restore (Tiny test model 0.1)"
    operation = document.operations[-1]
    assert operation.is_restore and operation.denoise == 1.0 and not operation.denoise_auto
    assert operation.pixels_changed == int(np.count_nonzero((restored != photo).any(axis=2)))
    assert not document.synthesized_mask().any()  # restored pixels are not synthesized
    assert window.editor.is_modified and "accepted" in window.statusBar().currentMessage()

    window.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, photo)
    np.testing.assert_array_equal(document.mask, painted)
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(document.image.pixels, restored)


def test_discard_leaves_the_photo_as_it_was(qtbot, window):
    document = window.editor.document
    photo = document.image.pixels.copy()
    run_restore(qtbot, window)  # all on auto
    assert document.pending.result.auto == (True, True, True)
    window.actions_.discard.trigger()
    assert document.pending is None and window.editor.undo_stack.count() == 0
    np.testing.assert_array_equal(document.image.pixels, photo)
    assert not window.panel.restore_section.review_box.isVisibleTo(window) and window.actions_.restore.isEnabled()


def test_a_cancelled_restore_changes_nothing(qtbot, window):
    photo = window.editor.document.image.pixels.copy()
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.restore()
        assert window.actions_.cancel_restore.isEnabled() and not window.actions_.fill.isEnabled()
        window.actions_.cancel_restore.trigger()
    assert window.editor.document.pending is None and window.editor.undo_stack.count() == 0
    np.testing.assert_array_equal(window.editor.document.image.pixels, photo)
    assert "cancelled" in window.statusBar().currentMessage()


def test_fills_after_a_restore_work_on_the_restored_pixels_and_a_project_keeps_both(qtbot, window, restore_registry,
                                                                                   tmp_path, dialog_recorder):
    document = window.editor.document
    photo = document.image.pixels.copy()
    set_options(window, MANUAL)
    run_restore(qtbot, window)
    window.accept_fill()
    restored = document.image.pixels.copy()
    paint(window, [(100, 100), (160, 100)], diameter=7)
    mask = document.mask.copy()
    assert window.panel.select_method("telea")
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.fill()
    window.accept_fill()
    filled = document.image.pixels.copy()
    changed = (filled != restored).any(axis=2)
    assert changed.any() and not changed[mask == 0].any()  # outside the mask: the restored pixels
    assert [op.action for op in document.operations] == ["restore", "fill"]
    exported = tmp_path / "better.png"
    assert window.save_as(exported)  # the record says what was restored and what was synthesized
    record = json.loads(exported.with_name("better.png.restorer.json").read_text())
    assert [op["action"] for op in record["operations"]] == ["restore", "fill"]
    with Image.open(exported) as written:
        assert "restored by Tiny test model 0.1" in written.text[HISTORY_KEY]
    np.testing.assert_array_equal(load_image(exported).pixels, filled)

    path = tmp_path / "faded.restorer"
    assert window.save_project(path)
    assert [step.is_restore for step in load_project(path).steps] == [True, False]
    window.actions_.undo.trigger()
    window.actions_.undo.trigger()
    assert window.open_project(path)
    document = window.editor.document
    np.testing.assert_array_equal(document.image.pixels, filled)
    assert window.editor.undo_stack.undoText().startswith("Fill")
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, restored)
    assert window.editor.undo_stack.undoText() == "Restore (Tiny test model 0.1)"
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, photo)


def test_an_autosave_keeps_an_accepted_restore(qtbot, window):
    set_options(window, MANUAL)
    run_restore(qtbot, window)
    window.accept_fill()
    with qtbot.waitSignal(window.autosaver.saved, timeout=10_000):
        window.autosaver.save_now()
    project = load_project(window.autosaver.path)
    assert project.position == 1 and project.steps[0].is_restore
    assert "can be restored: 1 accepted restore." in recovery_summary(project, datetime.datetime.now())
    np.testing.assert_array_equal(project.render(window.editor.document.original), window.editor.document.image.pixels)
    window.editor.mark_saved()


def test_a_script_can_set_the_strengths_preview_and_restore(qtbot, window, tmp_path, capsys):
    script = tmp_path / "restore.txt"
    script.write_text("denoise 0.5\ndeblock 0\nsharpen auto\ncolour off\nzoom 2\npreview\nrestore\naccept\n")
    runner = ScriptRunner(window, script, QApplication.instance())
    runner.start()
    qtbot.waitUntil(lambda: "READY" in capsys.readouterr().out, timeout=20_000)
    operation = window.editor.document.operations[-1]
    assert operation.is_restore and operation.denoise == 0.5 and operation.deblock == 0.0
    assert operation.sharpen_auto and not operation.colour_correction
    window.editor.mark_saved()
