"""The damage a detector proposed, as the canvas shows it and a repair fills it. Qt-free.

What a repair fills is the proposal at its threshold, grown by ``REPAIR_GROW`` (the soft rim
of a scratch is damage too), minus what the user erased from it, together with the strokes
painted by hand. Erasing works on both: it removes painted strokes, and it marks the pixels
as *excluded* from the proposal. Exclusions are kept beside the probability map, not in a
thresholded copy, so a hair erased at one sensitivity stays erased at every other. The brush
only adds painted strokes; a painted pixel is filled whether or not the proposal covers it.
"""

from __future__ import annotations

import numpy as np

from restorer_app.engine.detection import REPAIR_GROW, damage_mask
from restorer_app.engine.project import DamageProposal
from restorer_app.engine.provenance import Operation, with_detection
from restorer_app.engine.regions import Box


class ProposalLayer:
    """The proposal of one photo (or none) and its mask, one array for the photo's lifetime
    that is changed in place, so the canvas overlay can view its memory."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.proposal: DamageProposal | None = None
        #: 255 where the proposal (grown, minus exclusions) marks damage.
        self.mask = np.zeros(size, np.uint8)
        self._count = 0

    @property
    def active(self) -> bool:
        return self.proposal is not None

    @property
    def share(self) -> float:
        """The fraction of the photo the proposal marks now."""
        return self._count / max(1, self.mask.size)

    @property
    def marks_anything(self) -> bool:
        return self._count > 0

    def set(self, proposal: DamageProposal | None) -> None:
        """Show ``proposal`` (None: none) instead of the one shown."""
        if proposal is not None and proposal.damage.shape != self.mask.shape:
            raise ValueError("A proposal must have the photograph's size.")
        self.proposal = proposal
        self._refresh(None)

    def set_threshold(self, threshold: float) -> None:
        if self.proposal is not None and threshold != self.proposal.threshold:
            self.proposal.threshold = threshold
            self._refresh(None)

    def write_excluded(self, box: Box, values: np.ndarray) -> None:
        """Undo/redo entry point for an eraser stroke on the proposal."""
        if self.proposal is not None:
            self.proposal.excluded[box.slices] = values
            self._refresh(box)

    def refresh(self, box: Box) -> None:
        """Re-derive ``box`` of the mask after the exclusions changed there in place."""
        self._refresh(box)

    def _refresh(self, box: Box | None) -> None:
        proposal = self.proposal
        height, width = self.mask.shape
        if proposal is None:
            self.mask[:] = 0
            self._count = 0
            return
        box = box or Box(0, 0, width, height)
        # Growing needs the map a few pixels beyond the box.
        around = box.expanded(REPAIR_GROW, height, width)
        grown = damage_mask(proposal.damage.probability[around.slices], proposal.threshold, REPAIR_GROW)
        inner = grown[box.slices_within(around)]
        inner[proposal.excluded[box.slices] != 0] = 0
        before = int(np.count_nonzero(self.mask[box.slices]))
        self.mask[box.slices] = inner
        self._count += int(np.count_nonzero(inner)) - before

    def union(self, painted: np.ndarray) -> np.ndarray:
        """The mask a repair fills: ``painted`` strokes and the proposal."""
        return np.maximum(painted, self.mask) if self._count else painted.copy()


def repair_operation(operation: Operation, repaired: DamageProposal) -> Operation:
    """The record of a fill that repaired detected damage: it names the detector and threshold."""
    return with_detection(operation, repaired.damage, repaired.threshold, REPAIR_GROW)
