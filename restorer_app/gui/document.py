"""The open photograph, its mask, the fill or restore under review and what was accepted. Qt-free.

The window shows this state; undo commands change it through the few methods here, so
every change to pixels or mask goes through one place. An accepted restore is kept like an
accepted fill (a :class:`FillPatch` whose operation is a restore): one history, one undo
stack, one way into projects; only the mask and the synthesized-pixels record leave it out.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from restorer_app.engine import masks
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image
from restorer_app.engine.pipeline import FillResult, InpaintRequest
from restorer_app.engine.project import DamageProposal, FillStep
from restorer_app.engine.export import ExportedFiles, export_with_record
from restorer_app.engine.provenance import Operation, operation_for, restore_operation
from restorer_app.engine.regions import Box
from restorer_app.engine.restoration import RestoreResult
from restorer_app.engine.files import sha256_file

from .proposal import ProposalLayer, repair_operation

_fill_ids = itertools.count(1)


def restored_name(path: Path) -> Path:
    """Default Save-As target: ``<stem>_restored.<ext>`` beside the original."""
    return path.with_name(f"{path.stem}_restored{path.suffix}")


def next_fill_id() -> int:
    return next(_fill_ids)


@dataclass(frozen=True)
class PendingFill:
    """A fill result shown for review, with the mask and the request it was made from."""

    result: FillResult
    mask: np.ndarray
    request: InpaintRequest
    #: The detected damage the fill repairs (part of ``mask``), if any.
    proposal: DamageProposal | None = None
    #: Which of several variations this is (from 1; 0: the only fill made).
    variation: int = 0

    @property
    def undo_text(self) -> str:
        return f"Fill ({self.result.method_label})"


@dataclass(frozen=True)
class PendingRestore:
    """The whole photo restored, shown for review."""

    result: RestoreResult

    @property
    def undo_text(self) -> str:
        return f"Restore ({self.result.model.name} {self.result.model.version})"


def command_text(operation: Operation) -> str:
    """The undo stack's name for an accepted fill or restore."""
    return f"{'Restore' if operation.is_restore else 'Fill'} ({operation.method_label})"


def changed_pixels(before: np.ndarray, after: np.ndarray, rows: int = 256) -> np.ndarray:
    """H x W bool, True where some channel differs; compared a strip at a time, so a 60 MP
    photo never needs an H x W x C temporary."""
    changed = np.empty(before.shape[:2], bool)
    for y in range(0, before.shape[0], rows):
        np.any(before[y:y + rows] != after[y:y + rows], axis=2, out=changed[y:y + rows])
    return changed


@dataclass(frozen=True)
class FillPatch:
    """An accepted fill, kept as small as the damage: pixels and mask inside ``box``, and
    the provenance record every export of the photo must carry while the fill is applied.

    ``mask_before`` is the mask the fill was computed from (the mask is locked from the
    start of a fill until it is accepted), so its nonzero pixels are the synthesized ones.
    For a restore (``operation.is_restore``) it marks the pixels the restore changed, which
    are restored, not synthesized, and the painted mask is left as it is.
    """

    id: int
    box: Box
    #: The pixels the step changed (``changed``, in row order), before and after it: N x C.
    #: Nothing else in the box differs, so a fill over scratches across a 60 MP scan keeps
    #: the scratches' pixels, not two copies of the scan.
    old_values: np.ndarray
    new_values: np.ndarray
    mask_before: np.ndarray
    operation: Operation
    #: The painted strokes inside ``box`` before, when they were not all of ``mask_before``
    #: (the fill also repaired detected damage).
    painted_before: np.ndarray | None = None
    #: The detected damage the fill repaired: applying the fill clears it, undoing brings it back.
    proposal_before: DamageProposal | None = None
    #: The mask inside ``box`` once the fill is applied; None clears the box. A spot heal
    #: clears only its own stroke, so strokes painted meanwhile for a later fill stay.
    mask_after: np.ndarray | None = None

    @classmethod
    def between(cls, id: int, box: Box, before: np.ndarray, after: np.ndarray, mask_before: np.ndarray,
                operation: Operation, **rest) -> "FillPatch":
        """The patch of a step that turned ``before`` into ``after`` (``box``-shaped arrays, or
        views of the photo) where ``mask_before`` is set."""
        changed = mask_before > 0
        return cls(id, box, before[changed], after[changed], mask_before, operation, **rest)

    @property
    def changed(self) -> np.ndarray:
        """Within ``box``: the pixels the step changed (synthesized, or restored)."""
        return self.mask_before > 0


def fill_step(patch: FillPatch) -> FillStep:
    """The patch as a project stores it: the pixels it synthesized (or restored) only, so a fill
    over scratches all across a scan costs the scratches, not the whole photo, in memory and
    in every autosave."""
    return FillStep(patch.box, patch.new_values, patch.changed, patch.operation)


#: What one export wrote (the engine's record of it).
SavedFiles = ExportedFiles


class Document:
    """One photograph being restored.

    ``image.pixels`` is the current state (accepted fills applied, original precision);
    ``original`` is the photograph as opened, for before/after comparison. ``mask`` is one
    array for the document's lifetime and is always changed in place, so views onto its
    memory (the canvas overlay) stay valid.
    """

    def __init__(self, image: RasterImage, mask: np.ndarray | None = None) -> None:
        original = np.ascontiguousarray(image.pixels)
        self.original = original
        self.image = RasterImage(original.copy(), image.info, image.path)
        self.mask = np.zeros((image.height, image.width), np.uint8)
        #: 255 where fills must never copy texture from (source control; InpaintRequest.no_source).
        self.no_source = np.zeros((image.height, image.width), np.uint8)
        #: The damage a detector proposed, shown apart from the painted ``mask``.
        self.detected = ProposalLayer((image.height, image.width))
        if mask is not None:
            self.replace_mask(mask)
        self.pending: PendingFill | PendingRestore | None = None
        self.save_target: Path | None = None
        self.save_quality = 95  # JPEG quality of the last export, reused by Save
        #: The project file this session was last saved to or opened from.
        self.project_path: Path | None = None
        #: Checksum of the source file as it was read; projects and sidecars name it.
        self.source_sha256: str | None = None
        self._applied: list[FillPatch] = []
        self._saved: list[int] = []

    @classmethod
    def open(cls, path: str | os.PathLike, mask_path: str | os.PathLike | None = None) -> "Document":
        image = load_image(path)
        mask = masks.load_mask(mask_path, (image.height, image.width)) if mask_path else None
        document = cls(image, mask)
        document.source_sha256 = image.info.source_sha256  # of the bytes read, not of the path now
        return document

    # ------------------------------------------------------------------ describing

    @property
    def path(self) -> Path | None:
        return self.image.path

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else "Untitled"

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.image.height, self.image.width

    @property
    def full_box(self) -> Box:
        return Box(0, 0, self.image.width, self.image.height)

    @property
    def is_modified(self) -> bool:
        """True when the pixels differ from the last save (or from the file, if never saved)."""
        return [patch.id for patch in self._applied] != self._saved

    def source_checksum(self) -> str | None:
        """sha256 of the source as read (hashed now if that was not possible at open)."""
        if self.source_sha256 is None and self.path is not None:
            try:
                self.source_sha256 = sha256_file(self.path)
            except OSError:
                return None
        return self.source_sha256

    def mark_saved(self) -> None:
        """The accepted fills as they are now are safe in a file (an export or a project)."""
        self._saved = [patch.id for patch in self._applied]

    def saved_prefix(self, history: list[FillPatch]) -> int | None:
        """How many of ``history``'s first fills were the pixels at the last save, or None when
        that state is no longer in the history (a fill after it was undone and replaced)."""
        count = len(self._saved)
        return count if [patch.id for patch in history[:count]] == self._saved else None

    def mark_saved_prefix(self, history: list[FillPatch], count: int | None) -> None:
        """The pixels with ``history[:count]`` applied are safe in a file; None: none but the
        photo as opened (the file itself)."""
        self._saved = [patch.id for patch in history[:count]] if count is not None else []

    @property
    def applied_fills(self) -> list[FillPatch]:
        """Accepted fills that are in the pixels now, oldest first (undone ones are not)."""
        return list(self._applied)

    @property
    def operations(self) -> list[Operation]:
        return [patch.operation for patch in self._applied]

    def synthesized_mask(self) -> np.ndarray:
        """255 wherever an applied fill synthesized pixels."""
        synthesized = np.zeros(self.size, np.uint8)
        for patch in self._applied:
            if patch.operation.is_restore:
                continue
            synthesized[patch.box.slices][patch.mask_before > 0] = masks.FILL
        return synthesized

    # ----------------------------------------------------------------------- mask

    def replace_mask(self, new_mask: np.ndarray) -> Box | None:
        """Copy ``new_mask`` into the mask; return the box that changed (None if nothing did)."""
        masks.check_mask_size(new_mask, self.size)
        changed = Box.around((self.mask != new_mask).view(np.uint8))
        if changed is not None:
            self.mask[changed.slices] = new_mask[changed.slices]
        return changed

    def write_mask(self, box: Box, patch: np.ndarray) -> None:
        self.mask[box.slices] = patch

    def repair_mask(self) -> np.ndarray:
        """What a fill now fills: the painted strokes and the detected damage."""
        return self.detected.union(self.mask)

    # ---------------------------------------------------------------------- fills

    def set_pending(self, result: FillResult, mask: np.ndarray, request: InpaintRequest, variation: int = 0) -> None:
        """The fill of ``mask`` for review; the proposal shown now is what it repairs (it was
        locked while the fill ran)."""
        if result.pixels.shape != self.image.pixels.shape or result.pixels.dtype != self.image.pixels.dtype:
            raise ValueError("A fill result must have the photograph's shape and precision.")
        repaired = self.detected.proposal if self.detected.marks_anything else None
        self.pending = PendingFill(result, mask, request, repaired.snapshot() if repaired else None, variation)

    def set_pending_restore(self, result: RestoreResult) -> None:
        """The restored photo for review."""
        if result.pixels.shape != self.image.pixels.shape or result.pixels.dtype != self.image.pixels.dtype:
            raise ValueError("A restored photo must have the photograph's shape and precision.")
        self.pending = PendingRestore(result)

    def take_pending_patch(self) -> FillPatch | None:
        """Turn the fill or restore under review into a patch to accept (None if it changed nothing)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return None
        if isinstance(pending, PendingRestore):
            return self._restore_patch(pending.result)
        box = Box.around(pending.mask)
        if box is None:
            return None
        operation = replace(operation_for(pending.result, pending.request, pending.mask), variation=pending.variation)
        painted = self.mask[box.slices].copy()
        holes = np.ascontiguousarray(pending.mask[box.slices])
        return FillPatch.between(
            next_fill_id(), box, self.image.pixels[box.slices], pending.result.pixels[box.slices], holes,
            repair_operation(operation, pending.proposal) if pending.proposal else operation,
            painted_before=None if np.array_equal(painted, holes) else painted,
            proposal_before=pending.proposal,
        )

    def take_heal_patch(self, stroke_before: np.ndarray, stroke_box: Box) -> FillPatch | None:
        """The spot heal under review as a patch that, applied, clears only its own stroke and,
        undone, gives back the mask as it was before the stroke (``stroke_before``, the mask in
        ``stroke_box`` then), keeping whatever was painted around it meanwhile."""
        pending = self.pending
        patch = self.take_pending_patch()
        if patch is None or pending is None:
            return patch
        box = patch.box
        now = self.mask[box.slices].copy()
        holes = pending.mask[box.slices] > 0
        after = now.copy()
        after[holes] = 0
        before = now.copy()
        inside = stroke_box.intersection(box)
        if inside is not None:
            region = (slice(inside.y0 - box.y0, inside.y1 - box.y0), slice(inside.x0 - box.x0, inside.x1 - box.x0))
            old = stroke_before[inside.y0 - stroke_box.y0:inside.y1 - stroke_box.y0,
                                inside.x0 - stroke_box.x0:inside.x1 - stroke_box.x0]
            before[region] = np.where(holes[region], old, before[region])
        return replace(patch, painted_before=before, mask_after=after)

    def _restore_patch(self, result: RestoreResult) -> FillPatch | None:
        changed = changed_pixels(self.image.pixels, result.pixels)
        box = Box.around(changed)
        if box is None:
            return None
        height, width = self.size
        return FillPatch.between(
            next_fill_id(), box, self.image.pixels[box.slices], result.pixels[box.slices],
            np.where(changed[box.slices], np.uint8(masks.FILL), np.uint8(0)), restore_operation(result, height, width))

    def apply_fill(self, patch: FillPatch) -> None:
        """Write an accepted fill into the pixels; its damage is repaired, so its mask (and
        the proposal it repaired) clears. A restore changes the pixels only."""
        self.image.pixels[patch.box.slices][patch.changed] = patch.new_values
        if patch.operation.is_restore:
            self._applied.append(patch)
            return
        self.mask[patch.box.slices] = 0 if patch.mask_after is None else patch.mask_after
        if patch.proposal_before is not None:
            self.detected.set(None)
        self._applied.append(patch)

    def revert_fill(self, patch: FillPatch) -> None:
        self.image.pixels[patch.box.slices][patch.changed] = patch.old_values
        if patch.operation.is_restore:
            self._applied = [applied for applied in self._applied if applied.id != patch.id]
            return
        self.mask[patch.box.slices] = patch.mask_before if patch.painted_before is None else patch.painted_before
        if patch.proposal_before is not None:
            self.detected.set(patch.proposal_before.snapshot())
        self._applied = [applied for applied in self._applied if applied.id != patch.id]

    def take_out(self, patch: FillPatch) -> int:
        """Take an applied step out of the pixels (its changed pixels get back what was there
        before it) and out of the record; returns where it was among the applied steps. Only
        exact when no later step read its pixels (history.removal_blockers); the mask and the
        detected damage stay as they are."""
        index = [applied.id for applied in self._applied].index(patch.id)
        self.image.pixels[patch.box.slices][patch.changed] = patch.old_values
        del self._applied[index]
        return index

    def put_back(self, patch: FillPatch, index: int) -> None:
        """Undo :meth:`take_out`: the step's pixels and its place in the record come back."""
        self.image.pixels[patch.box.slices][patch.changed] = patch.new_values
        self._applied.insert(index, patch)

    # ---------------------------------------------------------------------- files

    def save(self, path: str | os.PathLike, *, jpeg_quality: int = 95,
             synthesized_mask: bool = False) -> SavedFiles:
        """Export the current pixels with their provenance: retouching tags inside the file,
        a sidecar JSON listing every applied fill beside it and, if asked, the mask of the
        synthesized pixels, all written as one consistent set (the CLI's writer). An existing
        file at ``path`` is replaced (the save dialog asked); the original, and a mask that
        another export's sidecar names, never are (the engine refuses)."""
        exported = export_with_record(
            self.image, path, self.operations, source=self.path,
            source_sha256=self.source_checksum() or "unavailable",
            synthesized=self.synthesized_mask() if synthesized_mask else None,
            jpeg_quality=jpeg_quality, protect=tuple(p for p in (self.path,) if p))
        self.save_target = exported.image
        self.save_quality = jpeg_quality
        self.mark_saved()
        return exported

    def save_mask(self, path: str | os.PathLike) -> Path:
        mask_image = RasterImage(self.mask[:, :, None], ImageInfo(format="PNG", bit_depth=8))
        return save_image(mask_image, path, protect=tuple(p for p in (self.path,) if p))
