"""For tests only (``restorer-gui --test-script FILE``): drive a real window from a script,
so a test can run the app as a separate process, let it autosave, and kill it.

One action per line; ``#`` starts a comment::

    open PHOTO [MASK]            method telea
    stroke DIAMETER x,y x,y ...  erase DIAMETER x,y ...
    detect                       (waits for the detected damage)
    sensitivity 0.6              (of the detected damage, 0..1, as the slider sets it)
    fill | repair                accept | discard | undo | redo | clear-detected
    denoise 0.5 | deblock auto | sharpen 0.2   (the Restore step's sliders, 0..1 or auto)
    colour on|off                preview  (waits for the preview of the visible part)
    restore                      (waits for the restored photo to review)
    variations N                 next-variation | previous-variation
    mask-file MASK               (replaces the mask)
    synthesized on|off           (View ▸ Show Synthesized Pixels)
    extend T,R,B,L OUT           (Extend Canvas, saved to OUT; waits until it is opened)
    zoom FACTOR|fit
    save-project FILE            shot FILE  (a PNG of the window, to look at it)
    dump FOLDER                  (writes pixels.npy and mask.npy of the document now)
    wait SECONDS                 (the window keeps running meanwhile)
    quit                         (ends the application with status 0, asking nothing)

When the last line has run it prints ``READY`` and keeps running; every finished autosave
that holds all changes so far prints ``AUTOSAVED``. A failing line prints ``SCRIPT ERROR`` on stderr and exits with 3.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QTimer

from .main_window import MainWindow
from .undo_commands import MASK_LAYER, NO_SOURCE_LAYER


class ScriptError(Exception):
    pass


class ScriptRunner(QObject):
    def __init__(self, window: MainWindow, script: Path, app: QCoreApplication) -> None:
        super().__init__(window)
        self._window = window
        self._app = app
        lines = Path(script).read_text(encoding="utf-8").splitlines()
        self._actions = [shlex.split(line, comments=True) for line in lines]
        self._actions = [words for words in self._actions if words]
        self._next = 0
        window.autosaver.saved.connect(self._on_autosaved)

    def _on_autosaved(self, _path) -> None:
        # Only a file that holds every change so far counts; one that was being written while
        # the script went on is behind, and the next tick writes again.
        _say("AUTOSAVED (behind)" if self._window.autosaver.dirty else "AUTOSAVED")

    def start(self) -> None:
        self._step()

    def _step(self) -> None:
        while self._next < len(self._actions):
            words = self._actions[self._next]
            self._next += 1
            try:
                waiting = self._run(words[0], words[1:])
            except Exception as error:  # noqa: BLE001 - any failure ends the scripted run
                print(f"SCRIPT ERROR at '{' '.join(words)}': {error}", file=sys.stderr, flush=True)
                self._app.exit(3)
                return
            if waiting:
                return  # _step runs again when the awaited signal arrives
        _say("READY")

    def _run(self, verb: str, args: list[str]) -> bool:
        """Run one action; True when it finishes later (then it calls _step itself)."""
        window, editor = self._window, self._window.editor
        if verb == "open":
            _check(window.open_path(*args), "could not open")
        elif verb == "method":
            _check(window.panel.select_method(args[0]), f"no method '{args[0]}'")
        elif verb in ("stroke", "erase", "keep-out"):
            points = [tuple(float(v) for v in point.split(",")) for point in args[1:]]
            layer = NO_SOURCE_LAYER if verb == "keep-out" else MASK_LAYER
            editor.begin_stroke(*points[0], float(args[0]), erase=verb == "erase", layer=layer)
            for point in points[1:]:
                editor.continue_stroke(*point)
            editor.end_stroke()
        elif verb in ("fill", "repair"):
            _check(window.fill() if verb == "fill" else window.repair(), f"the {verb} did not start")
            window.fill_done.connect(self._after_fill)
            return True
        elif verb == "detect":
            _check(window.detect(), "the detection did not start")
            window.fill_done.connect(self._after_detect)
            return True
        elif verb in ("denoise", "deblock", "sharpen"):
            section = window.panel.restore_section
            _check(section is not None, "no restoration model is installed")
            section.strengths[verb].set_value(None if args[0] == "auto" else float(args[0]))
        elif verb == "colour":
            _check(window.panel.restore_section is not None, "no restoration model is installed")
            window.panel.restore_section.colour_check.setChecked(args[0] == "on")
        elif verb == "preview":
            _check(window.actions_.preview_restore.isEnabled(), "a preview is not possible now")
            window.restoration.preview_shown.connect(self._after_preview)
            window.actions_.preview_restore.setChecked(True)
            return True
        elif verb == "restore":
            _check(window.restore(), "the restore did not start")
            window.fill_done.connect(self._after_restore)
            return True
        elif verb == "synthesized":
            window.actions_.show_synthesized.setChecked(args[0] == "on")
        elif verb == "variations":
            window.panel.variations_spin.setValue(int(args[0]))
        elif verb in ("next-variation", "previous-variation"):
            action = window.actions_.variation_next if verb == "next-variation" else window.actions_.variation_prev
            _check(action.isEnabled(), f"'{verb}' is not possible now")
            action.trigger()
        elif verb == "mask-file":
            _check(window.load_mask(args[0]), f"could not load the mask '{args[0]}'")
        elif verb == "extend":
            from restorer_app.engine.canvas import Margins

            document = editor.document
            margins = Margins.parse(args[0], *document.size)
            _check(window.extend_canvas(margins, args[1]), "the extension did not start")
            window.extension.saved.connect(self._after_extend)
            return True
        elif verb == "zoom":  # zoom fit | zoom FACTOR [X Y (the photo point to centre on)]
            window.canvas.fit() if args[0] == "fit" else window.canvas.set_zoom(float(args[0]))
            if len(args) == 3:
                window.canvas.centerOn(float(args[1]), float(args[2]))
        elif verb == "resize":  # resize WIDTH HEIGHT (the window)
            window.resize(int(args[0]), int(args[1]))
        elif verb == "show-repair-tools":
            window.panel_scroll.ensureWidgetVisible(window.panel.overlay, 0, 0)
        elif verb == "batch":  # batch INPUT OUTPUT_FOLDER OP  (runs the Batch dialog, waits for it)
            dialog = window.open_batch()
            dialog.add_inputs([args[0]])
            dialog.output_folder.setText(args[1])
            dialog.restore_check.setChecked("restore" in args[2])
            dialog.repair_radio.setChecked("repair" in args[2])
            _check(dialog.start(), dialog.progress_label.text())
            dialog.finished_batch.connect(self._after_batch)
            return True
        elif verb == "tool":  # tool brush|eraser|lasso|heal
            getattr(window.actions_, args[0]).setChecked(True)
        elif verb == "split":
            window.actions_.split.setChecked(args[0] == "on")
        elif verb == "sensitivity":
            _check(editor.proposal is not None, "nothing was detected")
            editor.set_threshold(round(1.0 - float(args[0]), 4))
        elif verb == "save-project":
            _check(window.save_project(args[0]), "the project was not saved")
        elif verb == "history":  # history show | select N | hide N | show-all | remove N
            panel = window.history_panel
            if args[0] == "show":
                window.history_dock.show()
                window.history_dock.raise_()
            elif args[0] == "show-all":
                panel.show_all()
            else:
                index = int(args[1]) - 1
                _check(0 <= index < len(panel.rows), f"there is no step {args[1]}")
                if args[0] == "select":
                    panel.select(index)
                elif args[0] == "hide":
                    panel.set_shown(index, False)
                elif args[0] == "remove":
                    _check(window.history.remove(panel.rows[index]), f"step {args[1]} was not removed")
                else:
                    raise ScriptError(f"unknown history action '{args[0]}'")
        elif verb == "shot":
            _check(window.grab().save(args[0]), f"could not write '{args[0]}'")
        elif verb in ("accept", "discard", "undo", "redo", "clear-detected"):
            action = getattr(window.actions_, "clear_proposal" if verb == "clear-detected" else verb)
            _check(action.isEnabled(), f"'{verb}' is not possible now")
            action.trigger()
        elif verb == "wait":
            QTimer.singleShot(round(float(args[0]) * 1000), self._step)
            return True
        elif verb == "quit":
            _say("QUIT")
            self._window.stop_jobs()  # no thread may outlive the application
            self._app.exit(0)
            return True
        elif verb == "dump":
            folder = Path(args[0])
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "pixels.npy", editor.document.image.pixels)
            np.save(folder / "mask.npy", editor.document.mask)
        else:
            raise ScriptError(f"unknown action '{verb}'")
        return False

    def _after_batch(self) -> None:
        self._window.batch_dialog.finished_batch.disconnect(self._after_batch)
        _say(f"BATCH {self._window.batch_dialog.progress_label.text()}")
        self._step()

    def _after_fill(self) -> None:
        self._window.fill_done.disconnect(self._after_fill)
        if self._window.editor.document.pending is None:
            print("SCRIPT ERROR at 'fill': no result to review", file=sys.stderr, flush=True)
            self._app.exit(3)
            return
        QTimer.singleShot(0, self._step)

    def _after_extend(self, _path, _band) -> None:
        self._window.extension.saved.disconnect(self._after_extend)
        QTimer.singleShot(0, self._step)

    def _after_preview(self, _box) -> None:
        self._window.restoration.preview_shown.disconnect(self._after_preview)
        QTimer.singleShot(0, self._step)

    def _after_restore(self) -> None:
        self._window.fill_done.disconnect(self._after_restore)
        if self._window.editor.document.pending is None:
            print("SCRIPT ERROR at 'restore': no restored photo to review", file=sys.stderr, flush=True)
            self._app.exit(3)
            return
        QTimer.singleShot(0, self._step)

    def _after_detect(self) -> None:
        self._window.fill_done.disconnect(self._after_detect)
        if self._window.editor.proposal is None:
            print("SCRIPT ERROR at 'detect': nothing was proposed", file=sys.stderr, flush=True)
            self._app.exit(3)
            return
        QTimer.singleShot(0, self._step)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ScriptError(message)


def _say(line: str) -> None:
    print(line, flush=True)
