"""Damage detection: a ``detect`` model's probability that each pixel is damage (scratch, dust,
crease, tear), turned into a mask the user can adjust and fill.

The probability map is kept as H x W uint8 (probability x 255): a 60 MP scan's map is 60 MB,
re-thresholding it is instant (the GUI's sensitivity slider never runs the model again), and it
is stored losslessly in projects. The model runs over tiles whose borders overlap by a margin
wider than the network's useful context; each tile gives only its inner part, so no seam can
show and the memory is the tile's, whatever the size of the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError, ModelMissingError
from .kinds import ModelKind
from .masks import grow as grow_mask
from .progress import Progress
from .regions import Box
from .registry import LoadedModel, ModelRegistry
from .runtime import Device
from .strategy import ModelRunner
from . import tensors

#: The threshold a proposal starts at (on the probability, 0..1).
DEFAULT_THRESHOLD = 0.5
#: Pixels a detected mask is grown by before it is filled: the soft rim of a scratch or speck
#: is damage too, and a fill that leaves it shows a faint outline.
REPAIR_GROW = 1
#: Context each tile shares with its neighbours (px): wider than what the detector looks at
#: to decide one pixel, so a tile's inner part is what a whole-photo run would give.
TILE_MARGIN = 48
#: Side of the tiles the detector runs on when its manifest gives no ``max_side``.
DEFAULT_TILE = 1024


@dataclass(frozen=True)
class DamageMap:
    """What a detector found in one photo."""

    #: H x W uint8: the probability that the pixel is damage, x 255.
    probability: np.ndarray
    model_id: str
    model_version: str
    #: The detector file's checksum, recorded with a repair (None for a map from elsewhere).
    model_sha256: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.probability.shape[:2]

    def mask(self, threshold: float = DEFAULT_THRESHOLD, grow: int = 0) -> np.ndarray:
        """The uint8 mask (255 = damage) of the pixels at or above ``threshold``."""
        return damage_mask(self.probability, threshold, grow)

    def share(self, threshold: float = DEFAULT_THRESHOLD) -> float:
        """The fraction of the photo's pixels flagged at ``threshold``."""
        return float(np.count_nonzero(self.probability >= level_of(threshold))) / max(1, self.probability.size)


def level_of(threshold: float) -> int:
    """The uint8 level a probability threshold in [0, 1] corresponds to (at least 1, so a
    threshold of 0 never flags the whole photo)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"A detection threshold is between 0 and 1, not {threshold}.")
    return max(1, min(255, int(round(threshold * 255))))


def damage_mask(probability: np.ndarray, threshold: float = DEFAULT_THRESHOLD, grow: int = 0) -> np.ndarray:
    """uint8 mask (255 = damage) of a uint8 probability map, optionally grown by ``grow`` px."""
    mask = np.where(probability >= level_of(threshold), np.uint8(255), np.uint8(0))
    return grow_mask(mask, grow) if grow > 0 and mask.any() else mask


def detection_tiles(height: int, width: int, tile: int, margin: int = TILE_MARGIN) -> list[tuple[Box, Box]]:
    """(tile, kept) box pairs covering the photo: each tile is at most ``tile`` px a side, and
    its kept part (what it contributes to the map) lies at least ``margin`` px inside every
    edge it shares with a neighbour; kept parts tile the photo exactly once."""
    if tile <= 2 * margin:
        raise ValueError(f"A detection tile of {tile} px cannot keep a margin of {margin} px on both sides.")

    def spans(n: int) -> list[tuple[int, int, int, int]]:
        # The fewest tiles that fit, with the kept parts split evenly: a 4000 px side in
        # 2048 px tiles is two tiles of 2048, not one of 2048 and a sliver.
        count = 1
        while True:
            cuts = [round(i * n / count) for i in range(count + 1)]
            out = [(max(0, a - margin) if i else 0, min(n, b + margin) if i < count - 1 else n, a, b)
                   for i, (a, b) in enumerate(zip(cuts, cuts[1:]))]
            if all(hi - lo <= tile for lo, hi, _, _ in out):
                return out
            count += 1

    return [(Box(tx0, ty0, tx1, ty1), Box(kx0, ky0, kx1, ky1))
            for ty0, ty1, ky0, ky1 in spans(height) for tx0, tx1, kx0, kx1 in spans(width)]


class DamageDetector(ModelRunner):
    """Runs a ``detect`` model over a photo of any size, tile by tile."""

    work = "looking for damage in"
    unit = "tile"
    advice = "close other programs, use the CPU, or use smaller tiles"

    def __init__(self, model: LoadedModel, tile: int | None = None, margin: int = TILE_MARGIN) -> None:
        if model.entry.kind is not ModelKind.DETECT:
            raise ModelError(f"'{model.entry.id}' is a {model.entry.kind.value} model, not a damage detector.")
        super().__init__(model)
        multiple = max(1, model.entry.size_multiple)
        side = tile or model.entry.max_side or DEFAULT_TILE
        self.tile = max(multiple, side - side % multiple)
        # A model declared for small tiles still runs: its tiles keep half their side inside.
        self.margin = min(margin, self.tile // 4)

    def detect(self, pixels: np.ndarray, progress: Progress | None = None) -> DamageMap:
        """The damage probability of every pixel of ``pixels`` (H x W x C, uint8 or uint16,
        grey or colour; alpha ignored). Each tile is a progress step and a cancellation point."""
        progress = progress or Progress()
        height, width = pixels.shape[:2]
        probability = np.zeros((height, width), np.uint8)
        pairs = detection_tiles(height, width, self.tile, self.margin)
        for index, (tile, kept) in enumerate(pairs):
            progress.check_cancelled()
            # Converted per tile: a 60 MP 16-bit scan in float would be 720 MB.
            rgb = tensors.to_float_rgb(pixels[tile.slices])
            damage = self.run({"image": rgb}, outputs=["damage"])["damage"][:, :, 0]
            inner = damage[kept.y0 - tile.y0:kept.y1 - tile.y0, kept.x0 - tile.x0:kept.x1 - tile.x0]
            probability[kept.slices] = np.clip(np.rint(inner * 255.0), 0, 255).astype(np.uint8)
            progress.report((index + 1) / len(pairs), f"Examined tile {index + 1} of {len(pairs)}")
        return DamageMap(probability, self.entry.id, self.entry.version, self.entry.sha256)


def detect_damage(pixels: np.ndarray, model: LoadedModel, progress: Progress | None = None,
                  tile: int | None = None) -> DamageMap:
    """The damage probability map of a photo's pixels, by ``model`` (a loaded ``detect`` model)."""
    return DamageDetector(model, tile).detect(pixels, progress)


def open_detector(registry: ModelRegistry, device: Device = Device.AUTO, model_id: str | None = None) -> LoadedModel:
    """The installed damage detector (``model_id``, else the default ``detect`` model),
    verified and loaded on ``device``; a typed error with one sentence when there is none
    or it cannot be used."""
    entry = registry.get(model_id) if model_id else registry.default_entry(ModelKind.DETECT)
    if entry is None:
        raise ModelMissingError("No damage detection model is installed (a model of kind 'detect' in the bundled "
                                "models folder, $RESTORER_MODEL_PATH or the user's models folder); paint the "
                                "damage by hand and fill it with 'inpaint' instead.")
    if entry.kind is not ModelKind.DETECT:
        raise ModelError(f"'{entry.id}' is a {entry.kind.value} model, not a damage detector.")
    return registry.open(entry.id, device)
