"""What the canvas compares: a 'before' and an 'after' of the photo, and the mask over them.

Outside review, 'before' is the photo as opened and 'after' the photo as it is now; under
review of a fill or restore, 'before' is the photo now and 'after' the photo with it. While
the Restore step previews, 'before' is the photo now and 'after' the preview.
"""

from __future__ import annotations

import numpy as np

from restorer_app.engine.regions import Box

from .canvas import CanvasView
from .display import DisplayBuffer
from .document import Document


class CanvasLayers:
    def __init__(self, canvas: CanvasView) -> None:
        self.canvas = canvas
        #: The photo as opened ("original"), as it is ("current"), with the fill under review
        #: ("pending"), and the photo now with the restore previewed on part of it ("preview").
        self.displays: dict[str, DisplayBuffer] = {}

    @property
    def reviewing(self) -> bool:
        return "pending" in self.displays

    def show_document(self, document: Document | None) -> None:
        self.displays.clear()
        if document is None:
            self.canvas.clear()
            return
        self.displays["original"] = DisplayBuffer(document.original)
        self.displays["current"] = DisplayBuffer(document.image.pixels)
        self.canvas.set_images(self.displays["original"], self.displays["current"],
                               has_alpha=document.image.has_alpha)

    def set_pending(self, pixels: np.ndarray | None) -> None:
        """The photo with the fill under review, or None when no fill is."""
        if pixels is not None:
            self.displays["pending"] = DisplayBuffer(pixels)
        else:
            self.displays.pop("pending", None)

    @property
    def previewing(self) -> bool:
        return "preview" in self.displays

    def set_preview(self, pixels: np.ndarray | None) -> None:
        """The photo with a restore previewed on part of it (changed in place, then
        :meth:`refresh_preview`), or None when nothing is previewed."""
        if pixels is not None:
            self.displays["preview"] = DisplayBuffer(pixels)
        else:
            self.displays.pop("preview", None)

    def refresh_preview(self, box: Box) -> None:
        display = self.displays.get("preview")
        if display is not None:
            display.refresh(box)
            self.canvas.refresh_box(box)

    def set_without(self, pixels: np.ndarray | None) -> None:
        """The photo with some accepted steps hidden (the History panel), shown as 'after'
        while nothing is reviewed or previewed; None: the photo as it is."""
        if pixels is not None:
            self.displays["without"] = DisplayBuffer(pixels)
        else:
            self.displays.pop("without", None)

    @property
    def hiding(self) -> bool:
        return "without" in self.displays

    def show(self, mask: np.ndarray, proposal: np.ndarray, mask_wanted: bool,
             no_source: np.ndarray | None = None) -> None:
        """Show the photo's layers with the painted ``mask``, the detected damage's ``proposal``
        and the area kept out of copying."""
        previewing = self.previewing and not self.reviewing
        hiding = self.hiding and not self.reviewing and not previewing
        self.canvas.set_after_tag("Preview" if previewing else "After, steps hidden" if hiding else "After")
        if self.reviewing:
            self.canvas.set_before(self.displays["current"])
            self.canvas.set_after(self.displays["pending"])
        elif previewing:
            self.canvas.set_before(self.displays["current"])
            self.canvas.set_after(self.displays["preview"])
        else:
            self.canvas.set_before(self.displays["original"])
            self.canvas.set_after(self.displays["without" if hiding else "current"])
        # Under review the mask would hide the very pixels being judged.
        self.canvas.set_mask(mask)
        self.canvas.set_proposal(proposal)
        self.canvas.set_no_source(no_source)
        self.canvas.set_mask_visible(mask_wanted and not self.reviewing)

    def refresh_pixels(self, box: Box) -> None:
        display = self.displays.get("current")
        if display is not None:
            display.refresh(box)
        self.canvas.refresh_box(box)
