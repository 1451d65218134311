"""The main window: builds the canvas, tool panel, menus and status bar, and wires them to
the editor, the fill worker and the file flow.

It holds no photo state of its own (that is the Editor's Document), opens and saves nothing
itself (that is the FileFlow's), and leaves what the canvas compares to CanvasLayers and
what the notice bar says to WindowNotices, detection to DetectFlow and the Restore step to
RestoreFlow; it starts fills and
reacts to their outcome, and routes every error to ``dialogs.show_error`` (a failed detection
to the notice bar). Wiring every action in one place is what makes it a little over 400 lines.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QDockWidget, QLineEdit, QMainWindow,
                               QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget)

from restorer_app import __version__
from restorer_app.engine.errors import RestorerError
from restorer_app.engine.pipeline import AUTO, FillResult, Inpainter, InpaintRequest, MethodInfo
from restorer_app.engine.runtime import CUDA_FALLBACK_NOTICE, Device

from . import dialogs
from .actions import WindowActions
from .autosave import Autosaver
from .batch_window import BatchDialog
from .canvas import CanvasView
from .canvas_layers import CanvasLayers
from .detect_flow import DetectFlow
from .document import PendingRestore
from .editor import Editor
from .file_flow import FileFlow, openable_drop
from .heal_flow import HealFlow
from .undo_commands import NO_SOURCE_LAYER
from .history_flow import HistoryFlow
from .history_panel import HistoryPanel
from .fill_controller import FillController
from .fill_worker import FillJob
from .menus import build_menus, build_toolbar
from .notice_bar import NoticeBar, WindowNotices
from .operations import model_labels
from .panel_widgets import DEFAULT_MASK_OPACITY, scrolling
from .restore_flow import RestoreFlow
from .extend_flow import ExtendFlow
from .variation_flow import VariationFlow
from .status_bar import StatusFields
from .tool_panel import FillOptions, ToolPanel

_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit)


class MainWindow(QMainWindow):
    #: Emitted after a fill or detection job ended and the window is back in a steady state.
    fill_done = Signal()

    def __init__(self, settings: QSettings | None = None, inpainter: Inpainter | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.inpainter = inpainter or Inpainter()
        self.editor = Editor(self)
        self.batch_dialog: BatchDialog | None = None
        self.fills = FillController(self.inpainter, self)
        self.autosaver = Autosaver(self.editor, self)
        self.actions_ = WindowActions(self)
        self.actions_.export_synthesized.setChecked(self.settings.value("export/synthesized_mask", False, type=bool))
        self.files = FileFlow(self, self.editor, self.fills, self.autosaver, self.settings,
                              self.actions_.export_synthesized.isChecked)

        self.canvas = CanvasView()
        self.layers = CanvasLayers(self.canvas)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(central)
        # Over the canvas, not in the layout: a notice coming or going never moves the photo.
        self.notice_bar = NoticeBar(central)
        self.notices = WindowNotices(self.notice_bar)

        models = model_labels(self.inpainter.registry)
        self.panel = ToolPanel(self.actions_, models)
        self.dock = QDockWidget("Tools", self)
        self.dock.setObjectName("toolsDock")
        self.panel_scroll = scrolling(self.panel)
        self.dock.setWidget(self.panel_scroll)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.history_panel = HistoryPanel()
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.history_dock.setFeatures(self.dock.features())
        # Beside the tools, as a tab: the photo keeps the window's full height.
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.tabifyDockWidget(self.dock, self.history_dock)
        self.dock.raise_()
        self.status = StatusFields(self.statusBar())
        self.detection = DetectFlow(self.editor, self.fills, self.inpainter.registry, self.panel.detect_section,
                                    self.statusBar(), self)
        self.healing = HealFlow(self.editor, self.fills, self.statusBar(),
                                lambda: replace(inpaint_request(self.panel.fill_options()),
                                                no_source=self.editor.no_source),
                                lambda: self.panel.review_heals_check.isChecked(), self,
                                hardness=lambda: self.panel.hardness_spin.value() / 100)
        self.variations = VariationFlow(self.editor, self.fills, self.panel.variation_strip, self.statusBar(), self)
        self.extension = ExtendFlow(self.editor, self.fills, self.statusBar(), self,
                                    self.actions_.export_synthesized.isChecked)
        self.extension.saved.connect(self._open_extended)
        self.history = HistoryFlow(self.editor, self.history_panel, self.layers, self.canvas, self.statusBar(),
                                   self._show_layers, self)
        self.restoration = RestoreFlow(self.editor, self.fills, self.inpainter.registry, self.panel.restore_section,
                                       self.layers, self.canvas, self.actions_, self.statusBar(), self)

        self.recent_menu = build_menus(self, self.actions_, self.panel.steps, (self.dock, self.history_dock),
                                       self._show_about)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        build_toolbar(self, self.actions_)
        self._connect()
        methods = self.inpainter.methods()
        self.panel.set_methods(methods, any(m.uses_text and m.available for m in methods))
        self.panel.set_brush_size(int(self.settings.value("brush/size", 24)))
        self.panel.quick_check.setChecked(self.settings.value("fill/quick", False, type=bool))
        self.panel.hardness_spin.setValue(int(self.settings.value("heal/hardness", 100)))
        self.panel.overlay.set_choice(self.settings.value("mask/colour", "Red"),
                                      int(self.settings.value("mask/opacity", DEFAULT_MASK_OPACITY)))
        self.canvas.set_mask_colour(self.panel.overlay.colour())
        self.canvas.set_brush_diameter(self.panel.brush_size)
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.restoreGeometry(self.settings.value("window/geometry", b""))
        self.restoreState(self.settings.value("window/state", b""))
        QApplication.instance().installEventFilter(self)
        self._on_document_changed()
        # A model that cannot be used (or a broken model folder) is worth knowing about, but
        # must not stop the app; the notice stays until dismissed.
        for problem in self.inpainter.model_problems():
            self.notices.keep(problem)

    # ------------------------------------------------------------------ building

    def _connect(self) -> None:
        a, canvas, editor, panel = self.actions_, self.canvas, self.editor, self.panel
        files = self.files
        a.open.triggered.connect(lambda: files.open_path())
        a.open_sample.triggered.connect(files.open_sample)
        a.save.triggered.connect(files.save)
        a.save_as.triggered.connect(lambda: files.save_as())
        a.open_project.triggered.connect(lambda: files.open_project())
        a.save_project.triggered.connect(lambda: files.save_project())
        a.export_synthesized.toggled.connect(lambda on: self.settings.setValue("export/synthesized_mask", on))
        panel.quick_check.toggled.connect(lambda on: self.settings.setValue("fill/quick", on))
        panel.overlay.changed.connect(self._on_overlay_changed)
        panel.hardness_spin.valueChanged.connect(lambda value: self.settings.setValue("heal/hardness", value))
        a.quit.triggered.connect(self.close)
        a.batch.triggered.connect(self.open_batch)
        a.undo.triggered.connect(editor.undo_stack.undo)
        a.redo.triggered.connect(editor.undo_stack.redo)
        a.size_down.triggered.connect(lambda: panel.step_brush_size(up=False))
        a.size_up.triggered.connect(lambda: panel.step_brush_size(up=True))
        a.mask_grow.triggered.connect(lambda: self._run(editor.grow_mask, panel.grow_amount))
        a.mask_shrink.triggered.connect(lambda: self._run(editor.shrink_mask, panel.grow_amount))
        a.mask_clear.triggered.connect(lambda: self._run(editor.clear_mask))
        a.mask_invert.triggered.connect(lambda: self._run(editor.invert_mask))
        a.mask_load.triggered.connect(lambda: files.load_mask())
        a.mask_save.triggered.connect(lambda: files.save_mask())
        a.show_mask.toggled.connect(lambda _: self._show_layers())
        a.show_synthesized.toggled.connect(lambda _: self._show_synthesized())
        a.fill.triggered.connect(self.fill)
        a.cancel_fill.triggered.connect(self.cancel_fill)
        a.restore.triggered.connect(self.restore)
        a.cancel_restore.triggered.connect(self.restoration.cancel)
        self.restoration.layers_changed.connect(self._show_layers)
        a.detect.triggered.connect(self.detect)
        a.cancel_detect.triggered.connect(self.cancel_fill)
        a.repair.triggered.connect(self.repair)
        a.clear_proposal.triggered.connect(lambda: self._run(editor.clear_proposal))
        a.accept.triggered.connect(self.accept_fill)
        a.discard.triggered.connect(self.discard_fill)
        a.extend_canvas.triggered.connect(lambda: self.extend_canvas())
        a.variation_prev.triggered.connect(lambda: self.variations.step(-1))
        a.variation_next.triggered.connect(lambda: self.variations.step(+1))
        a.split.toggled.connect(canvas.set_split)
        a.show_navigator.toggled.connect(canvas.navigator.set_enabled)
        a.lasso.toggled.connect(canvas.set_lasso_mode)
        a.clear_keep_out.triggered.connect(lambda: self._run(editor.clear_no_source))
        canvas.lasso.closed.connect(editor.fill_outline)
        a.zoom_fit.triggered.connect(canvas.fit)
        a.zoom_actual.triggered.connect(canvas.zoom_actual)
        a.zoom_in.triggered.connect(lambda: canvas.set_zoom(canvas.zoom * 1.25))
        a.zoom_out.triggered.connect(lambda: canvas.set_zoom(canvas.zoom / 1.25))

        files.message.connect(self.statusBar().showMessage)
        files.start_notice.connect(self.notices.keep)
        self.fills.progress.connect(self._on_fill_progress)
        self.fills.returned.connect(self._on_job_returned)
        self.fills.variation.connect(self._on_variation)
        self.fills.errored.connect(self._on_fill_errored)
        self.fills.cancelled.connect(self._on_fill_cancelled)
        self.fills.done.connect(self._on_fill_done)

        canvas.stroke_started.connect(self._begin_stroke)
        canvas.stroke_moved.connect(editor.continue_stroke)
        canvas.stroke_finished.connect(self._end_stroke)
        canvas.zoom_changed.connect(self.status.show_zoom)
        panel.brush_size_changed.connect(canvas.set_brush_diameter)
        panel.method_changed.connect(self._on_method_changed)

        editor.document_changed.connect(self._on_document_changed)
        editor.mask_changed.connect(self._on_mask_changed)
        editor.no_source_changed.connect(canvas.refresh_no_source)
        editor.proposal_changed.connect(self._on_proposal_changed)
        editor.pixels_changed.connect(self.layers.refresh_pixels)
        editor.pixels_changed.connect(lambda _box: self._show_synthesized())
        editor.pending_changed.connect(self._on_pending_changed)
        editor.modified_changed.connect(self.setWindowModified)
        self.autosaver.failed.connect(lambda error: self.notices.autosave_failed(dialogs.error_sentence(error)))
        self.autosaver.saved.connect(lambda _path: self.notices.autosaved())
        stack = editor.undo_stack
        for signal in (stack.canUndoChanged, stack.canRedoChanged, stack.undoTextChanged, stack.redoTextChanged):
            signal.connect(self._update_actions)

    # -------------------------------------------------- files (see FileFlow)

    def open_path(self, path: str | Path | None = None, mask_path: str | Path | None = None) -> bool:
        """Open a photograph (asking for it when ``path`` is None), optionally with a mask, or a project."""
        return self.files.open_path(path, mask_path)

    def open_sample(self) -> bool:
        return self.files.open_sample()

    def save(self) -> bool:
        return self.files.save()

    def save_as(self, path: str | Path | None = None, *, jpeg_quality: int | None = None) -> bool:
        return self.files.save_as(path, jpeg_quality=jpeg_quality)

    def save_project(self, path: str | Path | None = None) -> bool:
        return self.files.save_project(path)

    def open_project(self, path: str | Path | None = None) -> bool:
        return self.files.open_project(path)

    def offer_recovery(self) -> bool:
        """At start: offer to restore work left by sessions that did not quit cleanly."""
        return self.files.offer_recovery()

    def load_mask(self, path: str | Path | None = None) -> bool:
        return self.files.load_mask(path)

    def save_mask(self, path: str | Path | None = None) -> bool:
        return self.files.save_mask(path)

    def _fill_recent_menu(self) -> None:
        self.files.fill_recent_menu(self.recent_menu)

    def _run(self, operation, *args) -> bool:
        """Call an editor operation, showing an engine error instead of raising it."""
        try:
            operation(*args)
        except RestorerError as error:
            dialogs.show_error(self, error)
            return False
        return True

    # --------------------------------------------------------------------- fill

    def fill(self) -> bool:
        """Start filling the mask in a worker thread; False if nothing was started."""
        document = self.editor.document
        if document is None or self.fills.running or document.pending is not None:
            return False
        if not self.editor.has_marked_damage:
            self.statusBar().showMessage("Nothing to fill: paint over the damage with the brush first.", 6000)
            return False
        options = self.panel.fill_options()
        # A discarded fill moves the seed on, so Fill again gives another variation.
        request = replace(inpaint_request(options), seed=self.variations.next_seed, no_source=self.editor.no_source)
        self.editor.locked = True
        self.notices.fill_started()
        self.panel.set_filling(True)
        # What is shown is what is filled: the painted strokes and the detected damage.
        mask = document.repair_mask()
        self.variations.begin(options.variations, mask)
        self.fills.start(document.image, mask, request, options.variations)
        self._update_actions()
        self.canvas.setFocus()  # or the next shortcut (Y for the split view) types into the description
        return True

    def extend_canvas(self, margins=None, path: str | Path | None = None) -> bool:
        """Add margins (asked for unless given) and generate them in a worker thread; the result
        is saved (to ``path``, or where the save dialog says) and opened."""
        request = replace(inpaint_request(self.panel.fill_options()), seed=self.variations.next_seed)
        started = self.extension.start(request, margins, Path(path) if path else None)
        if started:
            self.notices.fill_started()
            self.panel.set_filling(True)
            self._update_actions()
        return started

    def _open_extended(self, path: Path, band) -> None:
        if self.files.open_path(path):
            self.editor.mark(band)
            self.variations.skip_most_likely()
            self.statusBar().showMessage(f"Opened {path.name}. The new band is marked: Fill makes other versions, "
                                         "Clear Mask keeps this one.", 12000)

    def repair(self) -> bool:
        """Fill the detected damage (and the painted strokes) the way Fill does."""
        if self.editor.proposal is None:
            return False
        return self.fill()

    def restore(self) -> bool:
        """Restore the whole photo in a worker thread, for review; False if nothing was started."""
        if not self.restoration.can_start():
            return False
        self.notices.fill_started()
        started = self.restoration.start()
        self._update_actions()
        self.canvas.setFocus()
        return started

    def detect(self) -> bool:
        """Look for damage with the default detect model in a worker thread; False if nothing was started."""
        if not self.detection.can_start():
            return False
        self.notices.fill_started()
        started = self.detection.start()
        self._update_actions()
        self.canvas.setFocus()
        return started

    @property
    def fill_job(self) -> FillJob | None:
        return self.fills.job

    def cancel_fill(self) -> None:
        if self.fills.running:
            self.fills.cancel()
            self.panel.set_progress(self.panel.progress_bar.value() / 1000, "Cancelling…")

    def _on_fill_progress(self, fraction: float, message: str) -> None:
        if not self.fills.detecting and not self.fills.restoring:  # those steps show their own
            self.panel.set_progress(fraction, message)

    def _on_job_returned(self, result: FillResult, mask, request: InpaintRequest) -> None:
        if self.healing.owns_job:
            self.healing.take(result, mask, request)
        else:
            self._on_fill_returned(result, mask, request)

    def _on_fill_returned(self, result: FillResult, mask, request: InpaintRequest, variation: int = 0) -> None:
        self.editor.set_pending(result, mask, request, variation)
        # The review box (and the variations strip in it) is at the panel's foot: bring it into view.
        QTimer.singleShot(0, lambda: self.panel_scroll.ensureWidgetVisible(self.panel.review_box, 0, 0))
        self.status.show_device(result.placement.label, expected=False,
                                fallback=CUDA_FALLBACK_NOTICE in result.notices)
        self.notices.show_fill(result.notices)
        self.statusBar().showMessage(
            f"Filled {result.changed_pixels:,} pixels in {result.regions} region(s) with {result.method_label} "
            f"in {result.seconds:.1f} s. Enter accepts, Esc discards.", 10000)

    def _on_variation(self, result: FillResult, mask, request: InpaintRequest, number: int) -> None:
        if self.variations.add(result, mask, request, number):
            self._on_fill_returned(result, mask, request, number)
            self.statusBar().showMessage(
                f"Variation 1 of {self.variations.count} is ready (seed {request.seed}); the others follow. "
                "← → compare them, Enter accepts the one shown.", 10000)
        self._update_actions()

    def _on_fill_errored(self, error: BaseException) -> None:
        if self.healing.owns_job:
            self.healing.failed()
            dialogs.show_error(self, error)
            return
        if self.fills.detecting:
            self.notices.detection_failed(dialogs.error_sentence(error))
        else:
            dialogs.show_error(self, error)

    def _on_fill_cancelled(self) -> None:
        if self.healing.owns_job:
            self.healing.failed()
            self.statusBar().showMessage("Spot heal cancelled; its stroke was taken back.", 5000)
            return
        if self.variations.stopped_on_purpose:
            return
        document = self.editor.document
        if document is not None and document.pending is not None:  # some variations were made
            self.statusBar().showMessage("Stopped making variations; pick one of those made, or discard them.", 8000)
            return
        self.statusBar().showMessage("Detection cancelled; nothing was proposed." if self.fills.detecting
                                     else "Restore cancelled; the photograph is unchanged." if self.fills.restoring
                                     else "Fill cancelled; the photograph is unchanged.", 5000)

    def _on_fill_done(self) -> None:
        document = self.editor.document
        self.editor.locked = bool(document and document.pending is not None)
        self.panel.set_filling(False)
        self._update_actions()
        self.fill_done.emit()

    def accept_fill(self) -> None:
        if self.healing.accept_reviewed():
            self.canvas.setFocus()
            return
        what = self._pending_name()
        self.editor.accept_pending()
        self.statusBar().showMessage(f"{what} accepted. Ctrl+Z undoes it.", 4000)
        self.canvas.setFocus()

    def discard_fill(self) -> None:
        if self.healing.discard_reviewed():
            self.canvas.setFocus()
            return
        what = self._pending_name()
        if what == "Fill":
            self.variations.discarded()
        self.editor.discard_pending()
        self.statusBar().showMessage(f"{what} discarded.", 4000)
        self.canvas.setFocus()

    # ---------------------------------------------------------- editor signals

    def _on_document_changed(self) -> None:
        document = self.editor.document
        self.notices.document_opened(list(document.image.info.notices) if document is not None else [])
        self.layers.show_document(document)
        self._show_layers()
        self._show_synthesized()
        # A description names what belongs in this photo's holes; the next photo's are others.
        self.panel.description.clear()
        self.status.show_image(document.image if document else None)
        self.status.show_zoom(self.canvas.zoom if document else None)
        self._on_method_changed(self.panel.fill_options().method)
        self._on_mask_changed(None)
        self._on_proposal_changed(None)
        self.detection.show_proposal()
        self.setWindowTitle(f"{document.display_name}[*] — Restorer" if document else "Restorer")
        self.setWindowModified(self.editor.is_modified)
        self._update_actions()
        if document is not None:
            self.canvas.setFocus()

    def _on_pending_changed(self) -> None:
        document = self.editor.document
        pending = document.pending if document else None
        self.layers.set_pending(pending.result.pixels if pending is not None else None)
        if pending is None:
            self.notices.review_ended()
        self.editor.locked = pending is not None or self.fills.running
        self._show_layers()
        self._update_actions()

    def _show_synthesized(self) -> None:
        """The amber tint of synthesized pixels, made again from the accepted fills."""
        document = self.editor.document
        wanted = self.actions_.show_synthesized.isChecked() and document is not None
        if wanted or self.canvas.synthesized_shown is not None:  # nothing to do while it is off
            self.canvas.set_synthesized(document.synthesized_mask() if wanted else None)

    def _show_layers(self) -> None:
        document = self.editor.document
        if document is not None:
            self.layers.show(document.mask, document.detected.mask, self.actions_.show_mask.isChecked(),
                             document.no_source)

    def _on_mask_changed(self, box) -> None:
        if box is not None:
            self.canvas.refresh_mask(box)
        document = self.editor.document
        self.status.show_coverage(self.editor.coverage if document else None)

    def _on_proposal_changed(self, box) -> None:
        self.canvas.refresh_proposal(box)
        if box is None:  # a proposal came or went: Repair and Clear follow
            self._update_actions()

    def _on_overlay_changed(self, colour) -> None:
        self.canvas.set_mask_colour(colour)
        self.settings.setValue("mask/colour", self.panel.overlay.colour_combo.currentText())
        self.settings.setValue("mask/opacity", self.panel.overlay.opacity_spin.value())

    def _on_method_changed(self, method: MethodInfo | None) -> None:
        # Until a fill with this method ran, all we can show is where it is expected to run.
        self.status.show_device(self._expected_device(method), expected=True)

    def _end_stroke(self) -> None:
        if self.actions_.heal.isChecked():
            stroke = self.editor.end_stroke(undoable=False)
            if stroke is not None:
                self.healing.submit(stroke)
                self._update_actions()
        else:
            self.editor.end_stroke()

    def _begin_stroke(self, x: float, y: float, straight: bool = False) -> None:
        if self.actions_.keep_out.isChecked():  # Alt erases the kept-out area, as Alt subtracts a lasso
            alt = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
            self.editor.begin_stroke(x, y, self.panel.brush_size, erase=alt, from_last=straight, layer=NO_SOURCE_LAYER)
            return
        self.editor.begin_stroke(x, y, self.panel.brush_size, erase=self.actions_.eraser.isChecked(),
                                 from_last=straight)

    # ----------------------------------------------------------------- helpers

    def _expected_device(self, method: MethodInfo | None) -> str:
        placement = self.inpainter.expected_placement(method.id if method else AUTO)
        return placement.label if placement is not None else "unavailable"

    def _pending_name(self) -> str:
        document = self.editor.document
        return "Restore" if document is not None and isinstance(document.pending, PendingRestore) else "Fill"

    def _update_actions(self) -> None:
        document = self.editor.document
        reviewing = document is not None and document.pending is not None
        editing = self.actions_.enable_for(has_document=document is not None, filling=self.fills.running,
                                           reviewing=reviewing, undo_stack=self.editor.undo_stack,
                                           detecting=self.fills.detecting, has_proposal=self.editor.proposal is not None,
                                           restoring=self.fills.restoring)
        self.actions_.restore.setEnabled(editing and self.restoration.available)
        self.actions_.preview_restore.setEnabled(editing and self.restoration.available)
        self.panel.set_reviewing(reviewing and self._pending_name() == "Fill")
        choosing = reviewing and self.panel.variation_strip.count > 1
        self.actions_.variation_prev.setEnabled(choosing)
        self.actions_.variation_next.setEnabled(choosing)
        self.restoration.show_state(editing)
        self.history.set_editable(editing)
        if self.panel.detect_section is not None:
            self.panel.detect_section.set_editable(editing)
        # Spot heals run one after another while the next speck is clicked.
        healing = self.healing.busy and document is not None and document.pending is None
        self.canvas.set_painting_enabled(editing or healing)

    def _show_about(self) -> None:
        dialogs.tell(self, "About Restorer",
                     f"Restorer {__version__}\n\nRepairs damaged photographs on this computer; "
                     "nothing is ever sent to a server.")

    # ------------------------------------------------------------------ events

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Holding backslash shows 'before' wherever focus is, except while typing text.
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(watched, QWidget) \
                and watched.window() is self and event.key() == Qt.Key.Key_Backslash \
                and not isinstance(QApplication.focusWidget(), _TEXT_INPUTS):
            if not event.isAutoRepeat() and self.editor.document is not None:
                self.canvas.hold_before(event.type() == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if openable_drop(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = openable_drop(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    def open_batch(self) -> BatchDialog:
        """The Batch dialog (one per window, kept while it runs), with the panel's fill options."""
        if self.batch_dialog is None or not self.batch_dialog.running:
            self.batch_dialog = BatchDialog(self.inpainter, inpaint_request(self.panel.fill_options()), self)
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        return self.batch_dialog

    def stop_jobs(self) -> None:
        """Cancel the background work (preview, restore, fill, detection, batch) and wait for it."""
        self.restoration.stop()
        self.fills.stop()
        if self.batch_dialog is not None:
            self.batch_dialog.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_unsaved():
            event.ignore()
            return
        self.stop_jobs()
        self.autosaver.shutdown()  # a clean quit leaves no autosave to recover
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("brush/size", self.panel.brush_size)
        QApplication.instance().removeEventFilter(self)
        super().closeEvent(event)


def inpaint_request(options: FillOptions) -> InpaintRequest:
    """The engine's request for a fill with the panel's options, on the device auto picks."""
    method = options.method
    return InpaintRequest(method=method.id if method else AUTO, prompt=options.description, device=Device.AUTO,
                          feather=options.soft_edge, harmonize=options.match_colour, grain=options.grain,
                          quick=options.quick)

