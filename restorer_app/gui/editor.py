"""The editing session: the document, its undo stack, and signals saying what changed.

Widgets call methods here and listen to the signals; every change to the mask or the
pixels goes through an undo command, which calls back into the ``write``/``apply``
methods so the canvas hears about it the same way for do, undo and redo.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from restorer_app.engine import masks
from restorer_app.engine.detection import DEFAULT_THRESHOLD, DamageMap
from restorer_app.engine.pipeline import FillResult, InpaintRequest
from restorer_app.engine.project import DamageProposal, Project, ProjectError
from restorer_app.engine.regions import Box

from .brush_stroke import BrushStroke, MaskPatch
from .document import Document, FillPatch, command_text, next_fill_id
from .history import StepRow, removal_blockers
from .lasso import fill_outline as outline_patch
from .undo_commands import MASK_LAYER, NO_SOURCE_LAYER, AcceptFillCommand, MaskPatchCommand, ProposalCommand, RemoveStepCommand, ThresholdCommand


class Editor(QObject):
    document_changed = Signal()
    mask_changed = Signal(object)  # Box that changed
    #: The detected damage changed: the Box that changed, or None for all of it (a new
    #: proposal, none, another threshold).
    proposal_changed = Signal(object)
    pixels_changed = Signal(object)  # Box that changed
    #: The area kept out of copying (source control) changed: the Box that changed.
    no_source_changed = Signal(object)
    pending_changed = Signal()  # a fill or restore entered or left review
    modified_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.undo_stack = QUndoStack(self)
        #: While a fill runs or a result is under review the mask must not change,
        #: because the result was computed from it.
        self.locked = False
        self._stroke: BrushStroke | None = None
        self._excluding: BrushStroke | None = None  # the eraser's stroke on the proposal
        self._threshold_before: float | None = None  # while the sensitivity slider is held
        self._mask_count = 0  # nonzero mask pixels, kept up to date patch by patch
        self._last_point: tuple[float, float] | None = None  # where the last stroke ended (Shift-click)
        self._layer = MASK_LAYER  # what the stroke in progress paints

    # ------------------------------------------------------------------ document

    def set_document(self, document: Document | None) -> None:
        self._stroke = self._excluding = None
        self._last_point = None
        self._threshold_before = None
        self.locked = False
        self.undo_stack.clear()
        self.document = document
        self._mask_count = int(np.count_nonzero(document.mask)) if document else 0
        self.document_changed.emit()
        self.modified_changed.emit(self.is_modified)

    @property
    def is_modified(self) -> bool:
        return bool(self.document and self.document.is_modified)

    @property
    def coverage(self) -> float:
        if self.document is None:
            return 0.0
        return self._mask_count / self.document.mask.size

    @property
    def mask_is_empty(self) -> bool:
        return self._mask_count == 0

    @property
    def has_marked_damage(self) -> bool:
        """Painted strokes or detected damage: something for a fill to fill."""
        return not self.mask_is_empty or bool(self.document and self.document.detected.marks_anything)

    @property
    def proposal(self) -> DamageProposal | None:
        return self.document.detected.proposal if self.document is not None else None

    @property
    def can_edit_mask(self) -> bool:
        return self.document is not None and not self.locked

    # --------------------------------------------------------------------- brush

    def begin_stroke(self, x: float, y: float, diameter: float, erase: bool, from_last: bool = False,
                     layer: str = MASK_LAYER) -> None:
        """Start a brush or eraser stroke at (x, y); ``from_last`` (Shift-click, as in Photoshop,
        GIMP and Krita) starts it where the previous stroke ended, so it paints a straight line
        from there to (x, y). ``layer`` :data:`NO_SOURCE_LAYER` paints the area kept out of
        copying instead of the mask."""
        if not self.can_edit_mask:
            return
        start = self._last_point if from_last and self._last_point is not None else None
        self._layer = layer
        self._stroke = BrushStroke(self._layer_array(layer), diameter, 0 if erase else masks.FILL)
        proposal = self.proposal
        # The eraser also takes pixels out of detected damage, for every threshold (see proposal.py).
        self._excluding = (BrushStroke(proposal.excluded, diameter, masks.FILL)
                           if erase and proposal and layer == MASK_LAYER else None)
        kind = "keep-out " if layer == NO_SOURCE_LAYER else ""
        self._stroke_text = f"{kind}{'eraser' if erase else 'brush'} stroke".capitalize()
        if start is not None:
            self._stroke_text = f"Straight {kind}{'eraser' if erase else 'brush'} stroke"
            self.continue_stroke(*start)
        self.continue_stroke(x, y)

    def continue_stroke(self, x: float, y: float) -> None:
        if self._stroke is None:
            return
        self._last_point = (x, y)
        box = self._stroke.add_point(x, y)
        if box is not None:
            (self.no_source_changed if self._layer == NO_SOURCE_LAYER else self.mask_changed).emit(box)
        if self._excluding is not None:
            excluded = self._excluding.add_point(x, y)
            if excluded is not None:
                self.document.detected.refresh(excluded)
                self.proposal_changed.emit(excluded)

    def end_stroke(self, undoable: bool = True) -> MaskPatch | None:
        """End the stroke; it becomes an undo step unless ``undoable`` is False (a spot heal's
        stroke, whose undo step is the heal). Returns what it painted."""
        stroke, self._stroke = self._stroke, None
        excluding, self._excluding = self._excluding, None
        if stroke is None:
            return None
        patch = stroke.finish()
        excluded = excluding.finish() if excluding is not None else None
        if patch is None and excluded is None:
            return None
        if self._layer == NO_SOURCE_LAYER:
            if patch is not None:
                self.undo_stack.push(MaskPatchCommand(self, self._stroke_text, patch, layer=NO_SOURCE_LAYER))
            return patch
        if patch is not None:
            # The stroke is already on the mask, so count it here; the command's first redo
            # rewrites the same pixels and changes no count.
            self._mask_count += int(np.count_nonzero(patch.after)) - int(np.count_nonzero(patch.before))
        if undoable or patch is None:
            self.undo_stack.push(MaskPatchCommand(self, self._stroke_text, patch, excluded))
        return patch

    def clear_no_source(self) -> None:
        """Let fills copy from every pixel again, as one undo step."""
        if not self.can_edit_mask:
            return
        area = self.document.no_source
        box = Box.around(area)
        if box is not None:
            patch = MaskPatch(box, area[box.slices].copy(), np.zeros((box.height, box.width), np.uint8))
            self.undo_stack.push(MaskPatchCommand(self, "Clear kept-out area", patch, layer=NO_SOURCE_LAYER))

    @property
    def no_source(self) -> np.ndarray | None:
        """The area kept out of copying for a fill's request; None when there is none."""
        document = self.document
        return document.no_source.copy() if document is not None and document.no_source.any() else None

    def write_no_source_patch(self, box: Box, values: np.ndarray) -> None:
        """Undo/redo entry point: put ``values`` into the kept-out area inside ``box``."""
        self.document.no_source[box.slices] = values
        self.no_source_changed.emit(box)

    def _layer_array(self, layer: str) -> np.ndarray:
        return self.document.no_source if layer == NO_SOURCE_LAYER else self.document.mask

    def fill_outline(self, points: list[tuple[float, float]], subtract: bool = False) -> MaskPatch | None:
        """Mark (or, ``subtract``, unmark) the area inside a lasso's closed outline as one undo
        step; taking an area out also takes it out of the detected damage, as the eraser does."""
        if not self.can_edit_mask:
            return None
        patch = outline_patch(self.document.mask, points, 0 if subtract else masks.FILL)
        proposal = self.proposal
        excluded = outline_patch(proposal.excluded, points, masks.FILL) if subtract and proposal else None
        if patch is None and excluded is None:
            return None
        if patch is not None:
            self._mask_count += int(np.count_nonzero(patch.after)) - int(np.count_nonzero(patch.before))
            self.mask_changed.emit(patch.box)
        if excluded is not None:
            self.document.detected.refresh(excluded.box)
            self.proposal_changed.emit(excluded.box)
        self.undo_stack.push(MaskPatchCommand(self, "Lasso, taken out" if subtract else "Lasso", patch, excluded))
        return patch

    def accept_heal(self, stroke: MaskPatch) -> None:
        """Accept the spot heal under review as one undo step that also takes back its stroke."""
        if self.document is None or self.document.pending is None:
            return
        patch = self.document.take_heal_patch(stroke.before, stroke.box)
        self.pending_changed.emit()
        if patch is not None:
            self.undo_stack.push(AcceptFillCommand(self, "Spot heal", patch))

    # ----------------------------------------------------------- mask operations

    def grow_mask(self, pixels: int) -> None:
        self._replace_mask(f"Grow mask {pixels} px", lambda m: masks.grow(m, pixels))

    def shrink_mask(self, pixels: int) -> None:
        self._replace_mask(f"Shrink mask {pixels} px", lambda m: masks.shrink(m, pixels))

    def clear_mask(self) -> None:
        self._replace_mask("Clear mask", np.zeros_like)

    def invert_mask(self) -> None:
        self._replace_mask("Invert mask", masks.invert)

    def load_mask(self, path: str | os.PathLike) -> None:
        """Replace the mask by a mask file; raises MaskError/ImageReadError with a sentence."""
        if self.document is None:
            return
        loaded = masks.load_mask(path, self.document.size)
        self._replace_mask("Load mask", lambda _: loaded)

    def mark(self, mask: np.ndarray, text: str = "Mark the new band") -> None:
        """Replace the mask by ``mask`` (the photo's size) as one undo step."""
        if self.document is not None and mask.shape == self.document.mask.shape:
            self._replace_mask(text, lambda _: mask)

    def _replace_mask(self, text: str, operation) -> None:
        if not self.can_edit_mask:
            return
        current = self.document.mask
        new_mask = operation(current)
        box = Box.around((current != new_mask).view(np.uint8))
        if box is None:
            return
        patch = MaskPatch(box, current[box.slices].copy(), np.ascontiguousarray(new_mask[box.slices]))
        self.undo_stack.push(MaskPatchCommand(self, text, patch))

    # ------------------------------------------------------------ detected damage

    def propose(self, damage: DamageMap) -> None:
        """Show what a detector found, at the default threshold, as one undoable step."""
        if not self.can_edit_mask:
            return
        excluded = np.zeros(damage.shape, np.uint8)
        self.undo_stack.push(ProposalCommand(self, "Detect damage", self.proposal,
                                             DamageProposal(damage, DEFAULT_THRESHOLD, excluded)))

    def clear_proposal(self) -> None:
        if self.can_edit_mask and self.proposal is not None:
            self.undo_stack.push(ProposalCommand(self, "Clear detected damage", self.proposal, None))

    def preview_threshold(self, threshold: float) -> None:
        """Re-threshold the detected damage now (the slider is moving); :meth:`commit_threshold`
        makes the move one undoable step."""
        proposal = self.proposal
        if proposal is None or not self.can_edit_mask or threshold == proposal.threshold:
            return
        if self._threshold_before is None:
            self._threshold_before = proposal.threshold
        self.document.detected.set_threshold(threshold)
        self.proposal_changed.emit(None)

    def commit_threshold(self) -> None:
        before, self._threshold_before = self._threshold_before, None
        proposal = self.proposal
        if before is not None and proposal is not None and before != proposal.threshold:
            self.undo_stack.push(ThresholdCommand(self, before, proposal.threshold))

    def set_threshold(self, threshold: float) -> None:
        """Move the threshold as one step (a key press on the slider, a script)."""
        self.preview_threshold(threshold)
        self.commit_threshold()

    def write_proposal(self, proposal: DamageProposal | None) -> None:
        """Undo/redo entry point: show ``proposal`` (None: none)."""
        self.document.detected.set(proposal)
        self.proposal_changed.emit(None)

    def write_threshold(self, threshold: float) -> None:
        self.document.detected.set_threshold(threshold)
        self.proposal_changed.emit(None)

    def write_excluded_patch(self, box: Box, values: np.ndarray) -> None:
        self.document.detected.write_excluded(box, values)
        self.proposal_changed.emit(box)

    def write_mask_patch(self, box: Box, values: np.ndarray) -> None:
        """Undo/redo entry point: put ``values`` into the mask inside ``box``."""
        mask_now = self.document.mask[box.slices]
        self._mask_count += int(np.count_nonzero(values)) - int(np.count_nonzero(mask_now))
        self.document.write_mask(box, values)
        self.mask_changed.emit(box)

    # --------------------------------------------------------------------- fills

    def set_pending(self, result: FillResult, mask: np.ndarray, request: InpaintRequest, variation: int = 0) -> None:
        self.document.set_pending(result, mask, request, variation)
        self.pending_changed.emit()

    def set_pending_restore(self, result) -> None:
        """The whole photo restored (a RestoreResult), for review."""
        self.document.set_pending_restore(result)
        self.pending_changed.emit()

    def accept_pending(self) -> None:
        if self.document is None or self.document.pending is None:
            return
        text = self.document.pending.undo_text
        patch = self.document.take_pending_patch()
        self.pending_changed.emit()
        if patch is not None:
            self.undo_stack.push(AcceptFillCommand(self, text, patch))

    def fill_commands(self) -> tuple[list[AcceptFillCommand], int]:
        """Every accepted fill (and restore) the undo stack holds, oldest first, and how many are applied.

        The stack has no undo limit, so it holds every fill since the photo was opened;
        replaying them on the source therefore rebuilds the pixels exactly."""
        stack = self.undo_stack
        commands, applied = [], 0
        for index in range(stack.count()):
            command = stack.command(index)
            if isinstance(command, AcceptFillCommand):
                commands.append(command)
                applied += index < stack.index()
            elif isinstance(command, RemoveStepCommand) and index < stack.index():
                # A step taken out is as if it had never been made: the later ones did not read it.
                commands = [c for c in commands if c.patch.id != command.patch.id]
                applied -= 1
        return commands, applied

    def history(self) -> list[StepRow]:
        """The accepted steps, oldest first: those applied, then those undone (Redo brings them back)."""
        commands, applied = self.fill_commands()
        return [StepRow(command.patch, command.text(), index < applied) for index, command in enumerate(commands)]

    def removal_blockers(self, patch: FillPatch) -> list[FillPatch]:
        """The later steps that read ``patch``'s pixels (none: it can be taken out exactly)."""
        height, width = self.document.size
        return removal_blockers(self.document.applied_fills, patch, height, width)

    def remove_step(self, patch: FillPatch, text: str) -> bool:
        """Take an applied step out as one undo step, if that is exact; False (nothing done)
        while the mask is locked, or when a later step read its pixels."""
        if not self.can_edit_mask or patch.id not in {p.id for p in self.document.applied_fills}:
            return False
        if self.removal_blockers(patch):
            return False
        self.undo_stack.push(RemoveStepCommand(self, f"Remove {text}", patch))
        return True

    def take_out_patch(self, patch: FillPatch) -> int:
        index = self.document.take_out(patch)
        self.pixels_changed.emit(patch.box)
        self.modified_changed.emit(self.is_modified)
        return index

    def put_back_patch(self, patch: FillPatch, index: int) -> None:
        self.document.put_back(patch, index)
        self.pixels_changed.emit(patch.box)
        self.modified_changed.emit(self.is_modified)

    def project(self, mask: np.ndarray | None = None) -> Project:
        """The session as a project: source reference, ``mask`` (default: a copy of the
        current one) and every accepted fill with the undo position."""
        document = self.document
        if document is None or document.path is None:
            raise ProjectError("Only a photograph opened from a file can be saved as a project.")
        checksum = document.source_checksum()
        if checksum is None:
            raise ProjectError(f"'{document.path.name}' can no longer be read, so the project cannot refer to it.")
        commands, applied = self.fill_commands()
        proposal = document.detected.proposal
        return Project(document.path, checksum, document.mask.copy() if mask is None else mask,
                       [command.step for command in commands], applied,
                       document.saved_prefix([command.patch for command in commands]),
                       proposal.snapshot() if proposal is not None else None, self.no_source)

    def set_document_from_project(self, document: Document, project: Project, *, saved: bool) -> None:
        """Show ``document`` (the project's source, freshly read) with the project's history:
        every accepted fill becomes an undoable command, ``steps[:position]`` are applied and
        the mask is the project's. ``saved``: the fills count as saved (a project file), or
        not (a recovered autosave). Raises ProjectError, before anything changes, when the
        project does not fit the photograph."""
        check_project_fits(project, document)
        self.set_document(document)
        # Each step is read off the photo as the steps before it left it (pushing a command
        # applies it), so no second copy of the photo is made.
        patches = []
        for step in project.steps:
            patch = FillPatch(next_fill_id(), step.box, document.image.pixels[step.box.slices][step.holes],
                              step.values, np.where(step.holes, np.uint8(masks.FILL), np.uint8(0)),
                              step.operation)
            patches.append(patch)
            self.undo_stack.push(AcceptFillCommand(self, command_text(patch.operation), patch))
        self.undo_stack.setIndex(project.position)
        document.replace_mask(project.mask)
        document.detected.set(project.proposal)
        if project.no_source is not None:
            document.no_source[:] = project.no_source
        self._mask_count = int(np.count_nonzero(document.mask))
        if saved:
            document.mark_saved()
        else:  # recovered: what the crashed session had saved (exported) is still saved
            document.mark_saved_prefix(patches, project.saved_steps)
        self.mask_changed.emit(document.full_box)
        self.no_source_changed.emit(document.full_box)
        self.proposal_changed.emit(None)
        self.modified_changed.emit(self.is_modified)

    def discard_pending(self) -> None:
        if self.document is None or self.document.pending is None:
            return
        self.document.pending = None
        self.pending_changed.emit()

    def apply_fill_patch(self, patch: FillPatch) -> None:
        mask_now = int(np.count_nonzero(self.document.mask[patch.box.slices]))
        self.document.apply_fill(patch)
        self._mask_count += int(np.count_nonzero(self.document.mask[patch.box.slices])) - mask_now
        self._after_fill_change(patch)

    def revert_fill_patch(self, patch: FillPatch) -> None:
        mask_now = int(np.count_nonzero(self.document.mask[patch.box.slices]))
        self.document.revert_fill(patch)
        self._mask_count += int(np.count_nonzero(self.document.mask[patch.box.slices])) - mask_now
        self._after_fill_change(patch)

    def _after_fill_change(self, patch: FillPatch) -> None:
        self.pixels_changed.emit(patch.box)
        self.mask_changed.emit(patch.box)
        if patch.proposal_before is not None:
            self.proposal_changed.emit(None)
        self.modified_changed.emit(self.is_modified)

    # --------------------------------------------------------------------- files

    def save(self, path: str | os.PathLike, *, jpeg_quality: int = 95, synthesized_mask: bool = False):
        saved = self.document.save(path, jpeg_quality=jpeg_quality, synthesized_mask=synthesized_mask)
        self.modified_changed.emit(self.is_modified)
        return saved

    def mark_saved(self) -> None:
        self.document.mark_saved()
        self.modified_changed.emit(self.is_modified)


def check_project_fits(project: Project, document: Document) -> None:
    """Raise ProjectError unless the project's mask and fills fit the document's photograph."""
    height, width = document.size
    pixels = document.original
    mask = project.mask
    if mask.shape != (height, width):
        raise ProjectError(f"The project's mask is {mask.shape[1]}x{mask.shape[0]} but '{document.display_name}' "
                           f"is {width}x{height}; the project belongs to another photograph.")
    for step in project.steps:
        box = step.box
        inside = 0 <= box.x0 <= box.x1 <= width and 0 <= box.y0 <= box.y1 <= height
        if not inside or step.values.shape[1:] != pixels.shape[2:] or step.values.dtype != pixels.dtype:
            raise ProjectError(f"The project's repairs do not fit '{document.display_name}' "
                               "(size, channels or bit depth differ); it belongs to another photograph.")
