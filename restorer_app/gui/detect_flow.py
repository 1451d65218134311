"""Damage detection for the window: starts the detector on the window's one job controller,
turns the map it returns into the editor's proposal, and keeps the Detect step's controls
showing the proposal as it is."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar

from restorer_app.engine.detection import DamageMap
from restorer_app.engine.registry import ModelKind, ModelRegistry

from .detect_section import DetectSection, share_text
from .editor import Editor
from .fill_controller import FillController


class DetectFlow(QObject):
    def __init__(self, editor: Editor, jobs: FillController, registry: ModelRegistry,
                 section: DetectSection | None, status: QStatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._editor, self._jobs, self._registry = editor, jobs, registry
        self._section, self._status = section, status
        jobs.detected.connect(self._on_detected)
        jobs.progress.connect(self._on_progress)
        jobs.done.connect(lambda: section is not None and section.set_detecting(False))
        editor.proposal_changed.connect(self.show_proposal)
        if section is not None:
            section.threshold_moved.connect(editor.preview_threshold)
            section.threshold_released.connect(editor.commit_threshold)
            section.threshold_set.connect(editor.set_threshold)

    def can_start(self) -> bool:
        document = self._editor.document
        return document is not None and not self._jobs.running and document.pending is None

    def start(self) -> bool:
        """Look for damage with the default detect model; False if nothing was started."""
        if not self.can_start():
            return False
        entry = self._registry.default_entry(ModelKind.DETECT)
        if entry is None:
            self._status.showMessage("No damage detector is installed.", 6000)
            return False
        self._editor.locked = True
        if self._section is not None:
            self._section.set_detecting(True)
        self._jobs.start_detection(entry, self._editor.document.image.pixels)
        return True

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._jobs.detecting and self._section is not None:
            self._section.set_progress(fraction, message)

    def _on_detected(self, damage: DamageMap) -> None:
        if self._editor.document is None:  # delivered while the window closes
            return
        self._editor.locked = False  # the job is over; the proposal is the first edit after it
        self._editor.propose(damage)
        share = self._editor.document.detected.share
        self._status.showMessage(f"Detected damage on {share_text(share)}: adjust the sensitivity, erase what "
                                 "is not damage, then press Repair.", 15000)

    def show_proposal(self, _box=None) -> None:
        if self._section is None:
            return
        document = self._editor.document
        proposal = document.detected.proposal if document is not None else None
        self._section.show_proposal(proposal.threshold if proposal is not None else None,
                                    document.detected.share if document is not None else 0.0)
