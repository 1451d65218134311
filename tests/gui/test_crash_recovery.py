"""Kill the real app with SIGKILL after it autosaved; a new window restores the work.

The app runs as its own process (``python -m restorer_app.gui.app --test-script``), paints,
fills and accepts, dumps its state, prints READY, and keeps running. Once it reports an
autosave holding everything, it is killed without any chance to clean up.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from restorer_app.gui import dialogs
from restorer_app.gui.autosave import DATA_DIR_ENV, DEFAULT_INTERVAL_MS
from restorer_app.gui.main_window import MainWindow

from gui_helpers import DAMAGE, RED

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

START_DEADLINE_S = 60
#: The proof that at most one interval of work is lost: a complete autosave follows READY
#: within the interval plus a generous allowance for a slow machine.
AUTOSAVE_DEADLINE_S = DEFAULT_INTERVAL_MS / 1000 + 5


class Lines:
    """stdout of a process, line by line, with deadlines instead of sleeps."""

    def __init__(self, stream) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, wanted: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = ""
            if line is None:
                raise AssertionError(f"the app exited before printing {wanted!r}; it printed {self.seen}")
            if line:
                self.seen.append(line)
            if line == wanted:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"no {wanted!r} within {seconds} s; the app printed {self.seen}")


def test_work_survives_sigkill_after_one_autosave_interval(qtbot, tmp_path, data_dir, photo_file, settings,
                                                          dialog_recorder):
    state = tmp_path / "state-at-kill"
    script = tmp_path / "session.txt"
    script.write_text(
        f"open '{photo_file}'\n"
        "method telea\n"
        f"stroke 20 {DAMAGE.x0},{DAMAGE.y0 + 8} {DAMAGE.x1},{DAMAGE.y0 + 8}   # over the red damage\n"
        "fill\n"
        "accept\n"
        "stroke 5 10,80 60,85   # marked after the fill, never filled\n"
        "erase 3 30,82 34,82\n"
        f"dump '{state}'\n", encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env[DATA_DIR_ENV] = str(data_dir)
    process = subprocess.Popen([sys.executable, "-m", "restorer_app.gui.app", "--test-script", str(script)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = Lines(process.stdout)
        lines.wait_for("READY", START_DEADLINE_S)
        lines.wait_for("AUTOSAVED", AUTOSAVE_DEADLINE_S)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read()
    assert "SCRIPT ERROR" not in stderr, stderr
    orphans = list((data_dir / "autosave").glob("session-*.restorer"))
    assert len(orphans) == 1 and orphans[0].with_suffix(".lock").exists()  # nothing was cleaned up

    pixels_at_kill, mask_at_kill = np.load(state / "pixels.npy"), np.load(state / "mask.npy")
    assert not (pixels_at_kill[DAMAGE.slices] == RED).all(axis=2).any()  # the fill was accepted
    assert mask_at_kill[81, 12:28].all() and not mask_at_kill[82, 31:34].any()  # stroke, then eraser

    restarted = MainWindow(settings)
    qtbot.addWidget(restarted)
    dialog_recorder.recovery_answer = dialogs.RecoveryChoice.RESTORE
    with qtbot.waitSignal(restarted.autosaver.saved, timeout=10_000):
        assert restarted.offer_recovery()
    assert "1 accepted fill and the painted mask" in dialog_recorder.recovery_questions[0]
    document = restarted.editor.document
    np.testing.assert_array_equal(document.image.pixels, pixels_at_kill)  # pixel-exact
    np.testing.assert_array_equal(document.mask, mask_at_kill)
    assert document.operations[0].method == "telea"
    restarted.actions_.undo.trigger()  # the history came back too
    assert (document.image.pixels[DAMAGE.slices] == RED).all()
    restarted.editor.mark_saved()
    restarted.close()
