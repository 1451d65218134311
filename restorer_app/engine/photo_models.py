"""Models that see the whole photo: restoration (denoise, de-JPEG, deblur, colour) and damage
detection. Each is a small runner; the strategy layer tiles the photo, pads, converts and
blends, so a restored photo has no seams and the network never sees more than a tile at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .kinds import ModelKind
from .progress import Progress
from .registry import LoadedModel
from .strategy import TILE_OVERLAP, ModelRunner, run_tiled
from . import tensors


class WholePhotoRunner(ModelRunner):
    """Runs a model over overlapping tiles of at most ``tile`` pixels a side (the model's
    ``max_side`` unless given); every tile is a progress step and a cancellation point."""

    unit = "tile"
    advice = "close other programs, use the CPU, or use smaller tiles"

    def __init__(self, model: LoadedModel, tile: int | None = None, overlap: int = TILE_OVERLAP) -> None:
        super().__init__(model)
        self.tile = tile or model.entry.max_side
        self.overlap = overlap

    def run_tiled(self, images: dict[str, np.ndarray], progress: Progress | None = None) -> dict[str, np.ndarray]:
        return run_tiled(images, self.run, self.tile, self.overlap, progress)


class RestoreRunner(WholePhotoRunner):
    """A ``restore`` model: photo and per-pixel strength in, restored photo out."""

    work = "restoring"

    def restore(self, pixels: np.ndarray, strength: np.ndarray | float = 1.0,
                progress: Progress | None = None) -> np.ndarray:
        """``pixels`` (H x W x C, uint8 or uint16, gray or colour, alpha kept) restored;
        ``strength`` is one number or an H x W map in [0, 1] (0 = leave as it is), given to
        every strength channel the model has. A photo held whole in float: for large photos,
        :mod:`restorer_app.engine.restoration` restores tile by tile into the photo's dtype."""
        rgb = tensors.to_float_rgb(pixels)
        spec = self.entry.input("strength")
        channels = spec.channels if spec is not None and spec.channels else 1
        amount = np.broadcast_to(np.asarray(strength, np.float32)[..., None], pixels.shape[:2] + (channels,))
        (out,) = self.run_tiled({"image": rgb, "strength": np.clip(amount, 0.0, 1.0)}, progress).values()
        return tensors.from_float_rgb(np.clip(out, 0.0, 1.0), pixels)


@dataclass(frozen=True)
class Detection:
    """What a ``detect`` model found: per-pixel damage probability, and per-class logits
    where the model gives them."""

    damage: np.ndarray  # H x W float32 in [0, 1]
    classes: np.ndarray | None = None  # H x W x K float32


class DetectRunner(WholePhotoRunner):
    """A ``detect`` model: photo in, damage probability (and optionally class logits) out."""

    work = "examining"

    def detect(self, pixels: np.ndarray, progress: Progress | None = None) -> Detection:
        outputs = self.run_tiled({"image": tensors.to_float_rgb(pixels)}, progress)
        classes = outputs.get("classes")
        return Detection(np.clip(outputs["damage"][:, :, 0], 0.0, 1.0), classes)


#: The runner for each kind of whole-photo model.
RUNNERS: dict[ModelKind, type[WholePhotoRunner]] = {ModelKind.RESTORE: RestoreRunner, ModelKind.DETECT: DetectRunner}


def runner_for(model: LoadedModel, tile: int | None = None, overlap: int = TILE_OVERLAP) -> WholePhotoRunner:
    """The runner for a loaded whole-photo model; a model of another kind is refused."""
    kind = model.entry.kind
    if kind not in RUNNERS:
        raise ModelError(f"'{model.entry.id}' is a {kind.value} model, not one that works on the whole photo.")
    return RUNNERS[kind](model, tile, overlap)
