"""Finding the damage in the window: Detect damage proposes a mask apart from the painted
strokes, the sensitivity slider re-thresholds it without running the detector again, the
eraser takes pixels out of it for every threshold, Repair fills it through the fill path, and
every step is undoable and survives projects and autosave."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QLabel

from restorer_app.engine.detection import DEFAULT_THRESHOLD, REPAIR_GROW, DamageDetector, damage_mask
from restorer_app.engine.pipeline import Inpainter
from restorer_app.engine.project import load_project
from restorer_app.engine.registry import ModelRegistry
from restorer_app.gui import dialogs
from restorer_app.gui.detect_section import share_text, threshold_of
from restorer_app.gui.main_window import MainWindow
from restorer_app.gui.operations import DETECT
from restorer_app.gui.script_runner import ScriptRunner

from factories import build_tiny_detect_model, detect_entry, write_manifest
from gui_helpers import paint

HEIGHT, WIDTH = 80, 120
#: The tiny detector calls the mean of the channels damage: white scratches are sure damage
#: (1.0), the grey "hair" is borderline (0.6), the dark photo is not (0.1).
SCRATCH_ROWS = (20, 21)
HAIR_COLUMN = 90
FAINT = (slice(60, 64), slice(10, 30))  # 0.4: flagged only at a high sensitivity


def old_photo() -> np.ndarray:
    pixels = np.full((HEIGHT, WIDTH, 3), 26, np.uint8)
    pixels[SCRATCH_ROWS[0]:SCRATCH_ROWS[1] + 1, 10:70] = 255
    pixels[30:70, HAIR_COLUMN] = 153
    pixels[FAINT] = 102
    return pixels


def expected_proposal(threshold: float, excluded: np.ndarray | None = None) -> np.ndarray:
    probability = np.rint(old_photo().mean(axis=2)).astype(np.uint8)
    mask = damage_mask(probability, threshold, REPAIR_GROW)
    if excluded is not None:
        mask[excluded] = 0
    return mask


@pytest.fixture
def detect_registry(tmp_path) -> ModelRegistry:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_detect_model(folder / "detect.onnx")
    write_manifest(folder, [detect_entry(folder, max_side=256)])
    return ModelRegistry([folder])


@pytest.fixture
def old_scan(tmp_path):
    path = tmp_path / "old.png"
    Image.fromarray(old_photo()).save(path)
    return path


def make_window(qtbot, settings, registry) -> MainWindow:
    window = MainWindow(settings, Inpainter(registry))
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, settings, detect_registry, old_scan):
    """A window with a detect model installed and the old scan open."""
    main_window = make_window(qtbot, settings, detect_registry)
    assert main_window.open_path(old_scan)
    yield main_window
    main_window.close()


@pytest.fixture
def model_runs(monkeypatch) -> list[int]:
    """One entry per tile the detector ran on."""
    runs: list[int] = []
    real_run = DamageDetector.run

    def counting(self, *args, **kwargs):
        runs.append(1)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(DamageDetector, "run", counting)
    return runs


def detect(qtbot, window) -> None:
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.detect()


def repair(qtbot, window) -> None:
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.repair()


def drag_slider(window, *sensitivities: int) -> None:
    """Drag the sensitivity slider through ``sensitivities`` and let go, as the mouse would."""
    slider = window.panel.detect_section.slider
    slider.setSliderDown(True)
    for value in sensitivities:
        slider.setValue(value)
    slider.setSliderDown(False)  # emits sliderReleased


def proposal_mask(window) -> np.ndarray:
    return window.editor.document.detected.mask


def test_the_detect_step_appears_with_a_detect_model_and_its_commands_are_in_the_repair_menu(window):
    assert DETECT in window.panel.steps and window.panel.detect_section is not None
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Repair")
    texts = [action.text() for action in menu.actions()]
    assert texts.index("&Detect Damage") < texts.index("&Fill")
    assert not window.actions_.repair.isEnabled()  # nothing detected yet
    section = window.panel.detect_section  # the slider waits at the default threshold, 0.5
    assert section.slider.value() == 50 and section.value_label.text() == "50 %"


def test_detect_proposes_a_mask_shown_apart_from_the_painted_strokes(qtbot, window, model_runs):
    document = window.editor.document
    detect(qtbot, window)
    assert len(model_runs) == 1  # one tile
    proposal = window.editor.proposal
    assert proposal is not None and proposal.threshold == DEFAULT_THRESHOLD
    assert (proposal.damage.model_id, proposal.damage.model_version) == ("tiny-detect", "0.1")
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(DEFAULT_THRESHOLD))
    assert proposal_mask(window)[SCRATCH_ROWS[0], 40] and proposal_mask(window)[50, HAIR_COLUMN]
    assert not proposal_mask(window)[FAINT].any()
    assert not document.mask.any()  # the painted mask is untouched
    # Its own layer, viewing the proposal's memory, in a colour unlike the brush's.
    assert window.canvas._proposal.mask is proposal_mask(window)
    assert window.canvas._proposal.isVisible()
    section = window.panel.detect_section
    assert section.flagged_label.text() == f"Detected damage: {share_text(document.detected.share)}."
    assert section.slider.isEnabled() and section.slider.value() == 50
    assert window.actions_.repair.isEnabled() and window.editor.undo_stack.undoText() == "Detect damage"

    window.actions_.undo.trigger()
    assert window.editor.proposal is None and not proposal_mask(window).any()
    assert not window.actions_.repair.isEnabled() and section.flagged_label.text() == "No detected damage is shown."
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(DEFAULT_THRESHOLD))


def test_the_sensitivity_slider_rethresholds_without_running_the_detector_again(qtbot, window, model_runs):
    detect(qtbot, window)
    stack = window.editor.undo_stack
    count = stack.count()
    drag_slider(window, 55, 62, 70)  # threshold 0.3: the faint band too
    assert len(model_runs) == 1
    assert window.editor.proposal.threshold == threshold_of(70)
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(threshold_of(70)))
    assert proposal_mask(window)[FAINT].all()
    assert stack.count() == count + 1  # one step for the whole drag, not one per tick
    assert "70 %" in stack.undoText()
    share = window.editor.document.detected.share
    assert window.panel.detect_section.flagged_label.text() == f"Detected damage: {share_text(share)}."

    window.panel.detect_section.slider.setValue(20)  # a key press: one step at once; threshold 0.8
    assert stack.count() == count + 2
    assert proposal_mask(window)[SCRATCH_ROWS[0], 40] and not proposal_mask(window)[50, HAIR_COLUMN]

    window.actions_.undo.trigger()
    window.actions_.undo.trigger()
    assert window.editor.proposal.threshold == DEFAULT_THRESHOLD
    assert window.panel.detect_section.slider.value() == 50  # the slider follows undo
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(DEFAULT_THRESHOLD))
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(threshold_of(70)))
    assert len(model_runs) == 1


def test_the_eraser_removes_detected_damage_for_every_threshold(qtbot, window):
    detect(qtbot, window)
    document = window.editor.document
    paint(window, [(HAIR_COLUMN, 28), (HAIR_COLUMN, 72)], diameter=7, erase=True)  # the hair is not damage
    excluded = document.detected.proposal.excluded != 0
    assert excluded[50, HAIR_COLUMN] and not excluded[SCRATCH_ROWS[0], 40]
    assert not proposal_mask(window)[30:70, HAIR_COLUMN - 2:HAIR_COLUMN + 3].any()
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(DEFAULT_THRESHOLD, excluded))

    window.editor.set_threshold(threshold_of(90))  # more sensitive: the hair would come back, but stays erased
    assert not proposal_mask(window)[30:70, HAIR_COLUMN - 2:HAIR_COLUMN + 3].any()
    assert proposal_mask(window)[FAINT].all()
    np.testing.assert_array_equal(proposal_mask(window), expected_proposal(threshold_of(90), excluded))

    window.actions_.undo.trigger()  # the threshold
    window.actions_.undo.trigger()  # the eraser stroke
    assert proposal_mask(window)[50, HAIR_COLUMN] and not document.detected.proposal.excluded.any()
    window.actions_.redo.trigger()
    assert not proposal_mask(window)[50, HAIR_COLUMN]


def test_the_brush_adds_to_the_proposal_and_erasing_takes_painted_strokes_out_too(qtbot, window):
    detect(qtbot, window)
    document = window.editor.document
    paint(window, [(100, 10), (110, 10)], diameter=3)  # damage the detector missed
    assert document.mask[10, 105] and not proposal_mask(window)[10, 105]
    assert document.repair_mask()[10, 105] and document.repair_mask()[SCRATCH_ROWS[0], 40]
    paint(window, [(105, 10), (105, 10)], diameter=5, erase=True)
    assert not document.mask[10, 105] and not document.repair_mask()[10, 105]


def test_repair_fills_only_the_final_mask_and_records_the_detector(qtbot, window):
    document = window.editor.document
    before = document.image.pixels.copy()
    detect(qtbot, window)
    paint(window, [(HAIR_COLUMN, 28), (HAIR_COLUMN, 72)], diameter=7, erase=True)
    paint(window, [(100, 10), (110, 10)], diameter=3)
    painted, proposed = document.mask.copy(), proposal_mask(window).copy()
    final = document.repair_mask()
    assert window.panel.fill_options().method.id == "auto"
    repair(qtbot, window)
    assert document.pending is not None
    assert not window.panel.detect_section.slider.isEnabled()  # the proposal is locked under review
    window.accept_fill()
    after = document.image.pixels
    changed = np.any(after != before, axis=2)
    assert changed.any() and not changed[final == 0].any()  # nothing outside the final mask
    assert changed[SCRATCH_ROWS[0], 40] and not changed[50, HAIR_COLUMN]  # the scratch is gone, the hair kept
    operation = document.operations[-1]
    assert (operation.detector_id, operation.detector_version) == ("tiny-detect", "0.1")
    assert operation.detector_sha256 == window.inpainter.registry.get("tiny-detect").sha256
    assert (operation.detection_threshold, operation.detection_grow) == (DEFAULT_THRESHOLD, REPAIR_GROW)
    # Repaired: the proposal and the strokes are gone.
    assert window.editor.proposal is None and not proposal_mask(window).any() and not document.mask.any()

    window.actions_.undo.trigger()
    np.testing.assert_array_equal(document.image.pixels, before)
    np.testing.assert_array_equal(document.mask, painted)  # the strokes come back as strokes
    np.testing.assert_array_equal(proposal_mask(window), proposed)  # the proposal too, with its erasures
    window.actions_.redo.trigger()
    assert window.editor.proposal is None and changed[SCRATCH_ROWS[0], 40]


def test_clear_detected_damage_is_undoable_and_keeps_the_strokes(qtbot, window):
    detect(qtbot, window)
    paint(window, [(100, 10), (110, 10)], diameter=3)
    shown = proposal_mask(window).copy()
    window.actions_.clear_proposal.trigger()
    assert window.editor.proposal is None and not proposal_mask(window).any()
    assert window.editor.document.mask[10, 105]
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(proposal_mask(window), shown)
    window.actions_.redo.trigger()
    assert window.editor.proposal is None and not window.actions_.repair.isEnabled()


def test_cancelled_detection_proposes_nothing(qtbot, window):
    with qtbot.waitSignal(window.fill_done, timeout=20_000):
        assert window.detect()
        assert window.actions_.cancel_detect.isEnabled() and not window.actions_.fill.isEnabled()
        window.actions_.cancel_detect.trigger()
    assert window.editor.proposal is None and window.editor.undo_stack.count() == 0
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.actions_.detect.isEnabled()


def test_a_failing_detector_gives_a_readable_notice(qtbot, settings, tmp_path, old_scan):
    folder = tmp_path / "broken"
    folder.mkdir()
    build_tiny_detect_model(folder / "detect.onnx")
    write_manifest(folder, [detect_entry(folder, max_side=256)])
    with open(folder / "detect.onnx", "r+b") as handle:  # same size, other bytes
        handle.seek(10)
        handle.write(b"\xff\xfe")
    window = make_window(qtbot, settings, ModelRegistry([folder]))
    assert window.open_path(old_scan)
    detect(qtbot, window)
    assert window.editor.proposal is None
    text = window.notice_bar.text
    assert text.startswith("Damage detection failed") and "tiny-detect" in text and "reinstall" in text
    window.close()


def test_without_a_detect_model_there_is_no_detect_step(qtbot, settings, tmp_path, old_scan):
    window = make_window(qtbot, settings, ModelRegistry([tmp_path]))
    assert window.panel.detect_section is None and DETECT not in window.panel.steps
    assert not any(label.text().endswith("Detect damage") for label in window.panel.findChildren(QLabel))
    window.close()


def test_a_project_keeps_the_proposal_its_threshold_and_its_erasures(qtbot, window, tmp_path, dialog_recorder):
    detect(qtbot, window)
    paint(window, [(HAIR_COLUMN, 28), (HAIR_COLUMN, 72)], diameter=7, erase=True)
    window.editor.set_threshold(threshold_of(70))
    shown = proposal_mask(window).copy()
    path = tmp_path / "old.restorer"
    assert window.save_project(path)
    saved = load_project(path).proposal
    assert saved is not None and saved.threshold == threshold_of(70)

    window.actions_.clear_proposal.trigger()
    assert window.open_project(path)
    assert window.editor.proposal.threshold == threshold_of(70)
    np.testing.assert_array_equal(proposal_mask(window), shown)
    assert window.panel.detect_section.slider.value() == 70
    window.editor.set_threshold(threshold_of(90))  # the erasures still hold at another threshold
    assert not proposal_mask(window)[50, HAIR_COLUMN] and proposal_mask(window)[FAINT].all()


def test_autosave_recovery_keeps_the_proposal(qtbot, window, settings, detect_registry, data_dir, dialog_recorder):
    detect(qtbot, window)
    paint(window, [(HAIR_COLUMN, 28), (HAIR_COLUMN, 72)], diameter=7, erase=True)
    shown = proposal_mask(window).copy()
    with qtbot.waitSignal(window.autosaver.saved, timeout=10_000):
        window.autosaver.save_now()
    crashed = data_dir / "autosave" / "session-crashed.restorer"
    crashed.write_bytes(window.autosaver.path.read_bytes())  # as a crash would leave it
    window.close()

    restarted = make_window(qtbot, settings, detect_registry)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    with qtbot.waitSignal(restarted.autosaver.saved, timeout=10_000):
        assert restarted.offer_recovery()
    assert "the detected damage" in dialog_recorder.recovery_questions[0]
    assert restarted.editor.proposal is not None
    np.testing.assert_array_equal(proposal_mask(restarted), shown)
    restarted.editor.mark_saved()
    restarted.close()


def test_a_script_can_detect_adjust_and_repair(qtbot, window, tmp_path, capsys):
    script = tmp_path / "flow.txt"
    script.write_text("detect\nsensitivity 0.3\nerase 7 90,28 90,72\nrepair\naccept\n")
    runner = ScriptRunner(window, script, QApplication.instance())
    runner.start()
    qtbot.waitUntil(lambda: "READY" in capsys.readouterr().out, timeout=20_000)
    operation = window.editor.document.operations[-1]
    assert operation.detector_id == "tiny-detect" and operation.detection_threshold == threshold_of(30)
    assert (window.editor.document.image.pixels[50, HAIR_COLUMN] == old_photo()[50, HAIR_COLUMN]).all()
