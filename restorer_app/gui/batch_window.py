"""File ▸ Batch…: a folder (or files) through a chain of steps — restore, then repair the
detected damage or fill masks from a folder — to an output folder, on the window's own job
thread, with each photo's outcome listed as it ends, the time left, Cancel, and the results
manifest. It is the command line's batch (engine/batch.py: the same tasks, the same
:func:`~restorer_app.engine.batch.run_batch`, the same resuming), so a rerun skips what is
done and retries what failed, and the outputs equal ``restorer batch``'s.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QProgressBar, QPushButton, QRadioButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from restorer_app.engine.batch import DONE, FAILED, RESULTS_NAME, BatchOutcome, ResultsLog, plan_tasks, run_batch
from restorer_app.engine.chain import INPAINT, REPAIR, RESTORE, Chain, ChainSettings
from restorer_app.engine.errors import RestorerError
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.progress import Progress, duration_text

from . import dialogs
from .fill_worker import FillJob, Worker

_FAILED_COLOUR = QColor(255, 120, 110)


class BatchWorker(Worker):
    """Opens the chain's models and runs every task, announcing each outcome as it ends."""

    outcome = Signal(object, int)

    def __init__(self, settings: ChainSettings, tasks, log: ResultsLog, inpainter: Inpainter) -> None:
        super().__init__()
        self._settings, self._tasks, self._log, self._inpainter = settings, tasks, log, inpainter

    def compute(self, progress: Progress) -> list[BatchOutcome]:
        progress.report(0.0, "Loading the models…")
        chain = Chain(self._settings, self._inpainter)
        return run_batch(chain, self._tasks, self._log, progress=progress,
                         on_outcome=lambda outcome, number: self.outcome.emit(outcome, number))


class BatchDialog(QDialog):
    """The batch's choices, its progress and its outcomes."""

    finished_batch = Signal()

    def __init__(self, inpainter: Inpainter, request: InpaintRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.resize(760, 560)
        self._inpainter, self._request = inpainter, request
        self.job: FillJob | None = None
        self._log: ResultsLog | None = None
        self._started = 0.0
        self._counts = {DONE: 0, FAILED: 0, "skipped": 0}
        self._total = 0

        self.inputs = QListWidget()
        self.inputs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        add_folder, add_files, remove = QPushButton("Add Folder…"), QPushButton("Add Photos…"), QPushButton("Remove")
        add_folder.clicked.connect(self._add_folder)
        add_files.clicked.connect(self._add_files)
        remove.clicked.connect(lambda: [self.inputs.takeItem(self.inputs.row(i)) for i in self.inputs.selectedItems()])
        input_buttons = QHBoxLayout()
        for button in (add_folder, add_files, remove):
            input_buttons.addWidget(button)
        input_buttons.addStretch(1)

        self.restore_check = QCheckBox("Restore the whole photo first (denoise, de-JPEG, sharpen: automatic)")
        self.repair_radio = QRadioButton("Detect the damage and repair it")
        self.masks_radio = QRadioButton("Fill the masks in a folder:")
        self.no_fill_radio = QRadioButton("No fill (restore only)")
        self.repair_radio.setChecked(True)
        self.mask_folder = QLineEdit()
        self.mask_folder.setPlaceholderText("the mask of scan.tif is scan.* or scan_mask.*")
        mask_button = QPushButton("Choose…")
        mask_button.clicked.connect(lambda: self._choose_folder(self.mask_folder, "Folder of masks"))
        mask_row = QHBoxLayout()
        mask_row.addWidget(self.masks_radio)
        mask_row.addWidget(self.mask_folder, 1)
        mask_row.addWidget(mask_button)
        self.output_folder = QLineEdit()
        output_button = QPushButton("Choose…")
        output_button.clicked.connect(lambda: self._choose_folder(self.output_folder, "Folder for the outputs"))
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_folder, 1)
        output_row.addWidget(output_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_label = QLabel("Choose photos, what to do and where the outputs go, then Start.")
        self.progress_label.setWordWrap(True)
        self.outcomes = QTreeWidget()
        self.outcomes.setHeaderLabels(["Photo", "Outcome", "Time", "Output or reason"])
        self.outcomes.setRootIsDecorated(False)
        self.outcomes.setUniformRowHeights(True)

        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("Cancel Batch", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.cancel_button.setEnabled(False)

        form = QFormLayout()
        form.addRow("Photos", self.inputs)
        form.addRow("", input_buttons)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.restore_check)
        column.addWidget(self.repair_radio)
        column.addLayout(mask_row)
        column.addWidget(self.no_fill_radio)
        outputs = QFormLayout()
        outputs.addRow("Output folder", output_row)
        column.addLayout(outputs)
        column.addWidget(self.progress_bar)
        column.addWidget(self.progress_label)
        column.addWidget(self.outcomes, 1)
        column.addWidget(self.buttons)

    # ------------------------------------------------------------------ choices

    def add_inputs(self, paths) -> None:
        for path in paths:
            self.inputs.addItem(str(path))

    def op(self) -> str:
        """'restore+repair', 'inpaint', 'restore', ... as chosen."""
        fill = REPAIR if self.repair_radio.isChecked() else INPAINT if self.masks_radio.isChecked() else None
        steps = ([RESTORE] if self.restore_check.isChecked() or fill is None else []) + ([fill] if fill else [])
        return "+".join(steps)

    def _choose_folder(self, field: QLineEdit, title: str) -> None:
        folder = dialogs.choose_folder(self, title, field.text())
        if folder is not None:
            field.setText(str(folder))

    def _add_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Folder of photos")
        if folder is not None:
            self.add_inputs([folder])

    def _add_files(self) -> None:
        self.add_inputs(dialogs.choose_images(self))

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self) -> bool:
        """Plan the tasks and start; False (with the reason shown) when the choices do not make a batch."""
        if self.running:
            return False
        settings = ChainSettings(op=self.op(), request=self._request, device=self._request.device)
        inputs = [Path(self.inputs.item(i).text()) for i in range(self.inputs.count())]
        output = self.output_folder.text().strip()
        try:
            if not inputs:
                raise RestorerError("Add a folder or photos to work on.")
            if not output:
                raise RestorerError("Choose the folder the outputs go to.")
            if settings.needs_mask and not self.mask_folder.text().strip():
                raise RestorerError("Filling given masks needs a mask folder: choose it.")
            mask_dir = Path(self.mask_folder.text().strip()) if settings.needs_mask else None
            tasks = plan_tasks(inputs, Path(output), mask_dir=mask_dir, needs_mask=settings.needs_mask)
        except RestorerError as error:
            self.progress_label.setText(str(error))
            return False
        log = ResultsLog(Path(output) / RESULTS_NAME)
        self.outcomes.clear()
        self._counts = {DONE: 0, FAILED: 0, "skipped": 0}
        self._total = len(tasks)
        self._started = time.perf_counter()
        worker = BatchWorker(settings, tasks, log, self._inpainter)
        worker.progress.connect(self._on_progress)
        worker.outcome.connect(self._on_outcome)
        # Bound methods, not lambdas: a lambda would run in the worker's thread.
        worker.errored.connect(self._on_error)
        worker.cancelled.connect(self._on_cancelled)
        worker.returned.connect(self._on_returned)
        self._log = log
        self.job = FillJob(worker, self)
        self.job.done.connect(self._on_done)
        self._set_running(True)
        self.job.start()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText("Cancelling after the photo being worked on…")

    def stop(self) -> None:
        """Cancel and wait (the dialog or the window is closing)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (self.inputs, self.restore_check, self.repair_radio, self.masks_radio, self.no_fill_radio,
                       self.mask_folder, self.output_folder):
            widget.setEnabled(not running)

    def _summary(self) -> str:
        c = self._counts
        return f"{c[DONE]} done, {c['skipped']} already done, {c[FAILED]} failed of {self._total}"

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        elapsed = time.perf_counter() - self._started
        left = ""
        worked = self._counts[DONE] + self._counts[FAILED]
        ended = worked + self._counts["skipped"]
        if worked and ended < self._total:
            left = f", about {duration_text(elapsed / worked * (self._total - ended))} left"
        self.progress_label.setText(f"{fraction * 100:.0f} %{left} · {message}")

    def _on_error(self, error: BaseException) -> None:
        self.progress_label.setText(dialogs.error_sentence(error))

    def _on_cancelled(self) -> None:
        self.progress_label.setText(f"Cancelled: {self._summary()}. Start again to go on; what is done is skipped.")

    def _on_returned(self, _outcomes) -> None:
        self.progress_label.setText(f"Finished: {self._summary()}. Results in {self._log.path}.")

    def _on_outcome(self, outcome: BatchOutcome, number: int) -> None:
        self._counts[outcome.status] = self._counts.get(outcome.status, 0) + 1
        what = outcome.error if outcome.status == FAILED else outcome.output
        item = QTreeWidgetItem([Path(outcome.input).name, outcome.status, f"{outcome.seconds:.1f} s", what or ""])
        item.setToolTip(3, what or "")
        if outcome.status == FAILED:
            for column in range(4):
                item.setForeground(column, QBrush(_FAILED_COLOUR))
        self.outcomes.addTopLevelItem(item)
        self.outcomes.scrollToItem(item)

    def _on_done(self) -> None:
        self.job = None
        self._set_running(False)
        self.finished_batch.emit()

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.running:
            self.cancel()  # Esc cancels the batch; closing waits for the photo in hand
            return
        super().keyPressEvent(event)
