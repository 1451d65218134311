"""File ▸ Batch…: a folder through a chain of steps on the job thread, outcomes listed, the
command line's batch underneath (same outputs, same manifest, same resuming)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from restorer_app.engine.batch import DONE, FAILED, RESULTS_NAME, ResultsLog, plan_tasks, run_batch
from restorer_app.engine.chain import Chain, ChainSettings
from restorer_app.engine.pipeline import InpaintRequest

from gui_helpers import make_photo_pixels


def _folder(tmp_path, count=3):
    folder = tmp_path / "scans"
    folder.mkdir()
    for number in range(count):
        pixels = make_photo_pixels().copy()
        pixels[10 + 5 * number:12 + 5 * number, 5:120] = 250  # a scratch
        Image.fromarray(pixels).save(folder / f"scan{number}.png")
    return folder


def test_a_batch_runs_in_the_window_and_lists_every_outcome(qtbot, window, tmp_path):
    folder = _folder(tmp_path)
    (folder / "broken.png").write_bytes(b"not a png")
    dialog = window.open_batch()
    dialog.add_inputs([folder])
    dialog.output_folder.setText(str(tmp_path / "out"))
    dialog.restore_check.setChecked(True)
    assert dialog.op() == "restore+repair"
    with qtbot.waitSignal(dialog.finished_batch, timeout=120_000):
        assert dialog.start()
        assert dialog.running and not dialog.start_button.isEnabled()
    statuses = [dialog.outcomes.topLevelItem(i).text(1) for i in range(dialog.outcomes.topLevelItemCount())]
    assert statuses == [FAILED, DONE, DONE, DONE]  # broken.png sorts first and fails with a reason
    assert "broken.png" in dialog.outcomes.topLevelItem(0).text(3)
    assert "3 done, 0 already done, 1 failed of 4" in dialog.progress_label.text()
    assert dialog.start_button.isEnabled() and not dialog.running
    # The same outputs as the engine's batch (the command line's) on the same photos.
    chain = Chain(ChainSettings(op="restore+repair", request=InpaintRequest()))
    tasks = [t for t in plan_tasks([folder], tmp_path / "cli") if t.image.name != "broken.png"]
    run_batch(chain, tasks, ResultsLog(tmp_path / "cli" / RESULTS_NAME))
    for task in tasks:
        ours = np.asarray(Image.open(tmp_path / "out" / task.image.name))
        assert np.array_equal(ours, np.asarray(Image.open(task.output)))
    lines = ResultsLog(tmp_path / "out" / RESULTS_NAME).read()
    assert [line["status"] for line in lines] == [FAILED, DONE, DONE, DONE]
    # A rerun skips what is done.
    with qtbot.waitSignal(dialog.finished_batch, timeout=120_000):
        assert dialog.start()
    statuses = [dialog.outcomes.topLevelItem(i).text(1) for i in range(dialog.outcomes.topLevelItemCount())]
    assert statuses == [FAILED, "skipped", "skipped", "skipped"]


def test_a_batch_can_be_cancelled_and_refuses_what_is_not_a_batch(qtbot, window, tmp_path):
    folder = _folder(tmp_path, count=4)
    dialog = window.open_batch()
    assert not dialog.start() and "Add a folder" in dialog.progress_label.text()
    dialog.add_inputs([folder])
    assert not dialog.start() and "Choose the folder" in dialog.progress_label.text()
    dialog.output_folder.setText(str(tmp_path / "out"))
    dialog.masks_radio.setChecked(True)
    assert not dialog.start() and "mask folder" in dialog.progress_label.text()
    dialog.repair_radio.setChecked(True)
    with qtbot.waitSignal(dialog.finished_batch, timeout=120_000):
        assert dialog.start()
        dialog.cancel()
    assert "Cancelled" in dialog.progress_label.text()
    assert dialog.outcomes.topLevelItemCount() < 4
    with qtbot.waitSignal(dialog.finished_batch, timeout=120_000):  # Start again goes on
        assert dialog.start()
    statuses = [dialog.outcomes.topLevelItem(i).text(1) for i in range(dialog.outcomes.topLevelItemCount())]
    assert len(statuses) == 4 and set(statuses) <= {DONE, "skipped"}
