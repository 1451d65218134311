"""Variations for the window: several fills of one mask with consecutive seeds, shown as they
are made in the review box's strip; the one chosen is under review, and accepting it records
its seed and number (provenance ``seed``, ``variation``).

The first variation is under review as soon as it is made while the others are computed;
accepting or discarding stops the rest. A discarded fill moves the seed on, so pressing
Fill again gives other variations, not the same ones.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar

from restorer_app.engine.pipeline import FillResult, InpaintRequest
from restorer_app.engine.regions import Box

from .editor import Editor
from .fill_controller import FillController
from .variation_strip import VariationStrip

#: Pixels of photo around the filled area in each preview.
PREVIEW_CONTEXT = 24


class VariationFlow(QObject):
    def __init__(self, editor: Editor, jobs: FillController, strip: VariationStrip, status: QStatusBar,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._editor, self._jobs, self._strip, self._status = editor, jobs, strip, status
        self._made: dict[int, tuple[FillResult, np.ndarray, InpaintRequest]] = {}
        self._count = 0
        self._next_seed = 0
        #: Set when the window stopped the remaining variations itself (accept, discard).
        self.stopped_on_purpose = False
        strip.chosen.connect(self.choose)
        editor.pending_changed.connect(self._on_pending_changed)
        editor.document_changed.connect(self._reset_seed)

    @property
    def next_seed(self) -> int:
        """The seed of the next fill: 0 on a newly opened photo, moved on by each discard."""
        return self._next_seed

    @property
    def count(self) -> int:
        return self._count

    def begin(self, count: int, mask: np.ndarray) -> None:
        """A fill of ``mask`` with ``count`` variations is starting."""
        self._made.clear()
        self._count = count
        self.stopped_on_purpose = False
        box = Box.around(mask)
        if box is not None:
            height, width = mask.shape[:2]
            box = box.expanded(PREVIEW_CONTEXT, height, width)
        self._strip.begin(count, box)

    def add(self, result: FillResult, mask: np.ndarray, request: InpaintRequest, number: int) -> bool:
        """Variation ``number`` is ready; True if it is the one to put under review (the first)."""
        if self._editor.document is None or (number > 1 and not self._made):
            return False  # the review already ended
        self._made[number] = (result, mask, request)
        self._strip.add(number, request.seed, result.pixels)
        if number > 1:
            self._status.showMessage(f"Variation {number} of {self._count} is ready (seed {request.seed}): "
                                     "← → to compare, Enter accepts the one shown.", 8000)
        return number == 1

    def choose(self, number: int) -> None:
        """Put variation ``number`` under review."""
        document = self._editor.document
        if number not in self._made or document is None or document.pending is None:
            return
        if document.pending.variation == number:
            return
        result, mask, request = self._made[number]
        self._editor.set_pending(result, mask, request, number)
        self._status.showMessage(f"Showing variation {number} of {self._count} (seed {request.seed}). "
                                 "Enter accepts it, Esc discards.", 8000)

    def step(self, delta: int) -> None:
        """The previous (-1) or next (+1) variation made so far."""
        document = self._editor.document
        if not self._made or document is None or document.pending is None:
            return
        numbers = sorted(self._made)
        current = document.pending.variation or numbers[0]
        index = min(max(numbers.index(current) + delta, 0), len(numbers) - 1) if current in numbers else 0
        self._strip.select(numbers[index])

    def skip_most_likely(self) -> None:
        """The next Fill should give an alternative, not the most likely fill again (the
        extended canvas just opened has it already)."""
        self._next_seed = max(self._next_seed, 1)

    def discarded(self) -> None:
        """The fill under review was thrown away: the next Fill starts from new seeds."""
        self._next_seed += max(1, self._count)

    def _on_pending_changed(self) -> None:
        document = self._editor.document
        if document is not None and document.pending is not None:
            return
        if self._jobs.making_variations:  # accepted or discarded before all were made
            self.stopped_on_purpose = True
            self._jobs.cancel()
        self._made.clear()
        self._strip.clear()

    def _reset_seed(self) -> None:
        self._next_seed = 0
