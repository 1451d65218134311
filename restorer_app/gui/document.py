"""The open photograph, its mask, the fill under review and what was accepted. Qt-free.

The window shows this state; undo commands change it through the few methods here, so
every change to pixels or mask goes through one place.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from restorer_app.engine import masks
from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image, save_image
from restorer_app.engine.pipeline import FillResult
from restorer_app.engine.regions import Box

_fill_ids = itertools.count(1)


def mask_bounds(mask: np.ndarray) -> Box | None:
    """Smallest box holding every nonzero mask pixel, or None for an empty mask."""
    x, y, w, h = cv2.boundingRect(mask)
    return Box(x, y, x + w, y + h) if w and h else None


def restored_name(path: Path) -> Path:
    """Default Save-As target: ``<stem>_restored.<ext>`` beside the original."""
    return path.with_name(f"{path.stem}_restored{path.suffix}")


@dataclass(frozen=True)
class PendingFill:
    """A fill result shown for review, with the mask it was made from."""

    result: FillResult
    mask: np.ndarray


@dataclass(frozen=True)
class FillPatch:
    """An accepted fill, kept as small as the damage: pixels and mask inside ``box``."""

    id: int
    box: Box
    old_pixels: np.ndarray
    new_pixels: np.ndarray
    mask_before: np.ndarray


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
        if mask is not None:
            self.replace_mask(mask)
        self.pending: PendingFill | None = None
        self.save_target: Path | None = None
        self._applied: list[int] = []
        self._saved: list[int] = []

    @classmethod
    def open(cls, path: str | os.PathLike, mask_path: str | os.PathLike | None = None) -> "Document":
        image = load_image(path)
        mask = masks.load_mask(mask_path, (image.height, image.width)) if mask_path else None
        return cls(image, mask)

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
        return self._applied != self._saved

    # ----------------------------------------------------------------------- mask

    def replace_mask(self, new_mask: np.ndarray) -> Box | None:
        """Copy ``new_mask`` into the mask; return the box that changed (None if nothing did)."""
        masks.check_mask_size(new_mask, self.size)
        changed = mask_bounds((self.mask != new_mask).view(np.uint8))
        if changed is not None:
            self.mask[changed.slices] = new_mask[changed.slices]
        return changed

    def write_mask(self, box: Box, patch: np.ndarray) -> None:
        self.mask[box.slices] = patch

    # ---------------------------------------------------------------------- fills

    def set_pending(self, result: FillResult, mask: np.ndarray) -> None:
        if result.pixels.shape != self.image.pixels.shape or result.pixels.dtype != self.image.pixels.dtype:
            raise ValueError("A fill result must have the photograph's shape and precision.")
        self.pending = PendingFill(result, mask)

    def take_pending_patch(self) -> FillPatch | None:
        """Turn the fill under review into a patch to accept (None if it changed nothing)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return None
        box = mask_bounds(pending.mask)
        if box is None:
            return None
        return FillPatch(
            id=next(_fill_ids),
            box=box,
            old_pixels=self.image.pixels[box.slices].copy(),
            new_pixels=pending.result.pixels[box.slices].copy(),
            mask_before=self.mask[box.slices].copy(),
        )

    def apply_fill(self, patch: FillPatch) -> None:
        """Write an accepted fill into the pixels; its damage is repaired, so its mask clears."""
        self.image.pixels[patch.box.slices] = patch.new_pixels
        self.mask[patch.box.slices] = 0
        self._applied.append(patch.id)

    def revert_fill(self, patch: FillPatch) -> None:
        self.image.pixels[patch.box.slices] = patch.old_pixels
        self.mask[patch.box.slices] = patch.mask_before
        if patch.id in self._applied:
            self._applied.remove(patch.id)

    # ---------------------------------------------------------------------- files

    def save(self, path: str | os.PathLike) -> Path:
        """Write the current pixels; the original file is never overwritten (the engine refuses)."""
        written = save_image(self.image, path, protect=tuple(p for p in (self.path,) if p))
        self.save_target = written
        self._saved = list(self._applied)
        return written

    def save_mask(self, path: str | os.PathLike) -> Path:
        mask_image = RasterImage(self.mask[:, :, None], ImageInfo(format="PNG", bit_depth=8))
        return save_image(mask_image, path, protect=tuple(p for p in (self.path,) if p))
