"""Training samples: crop, mask, Navier-Stokes pre-fill, caption and its embedding.

All of this runs in DataLoader workers: on the GPU machine the data pipeline, not the GPU,
was the bottleneck (models/HISTORY.md), and on the CPU it overlaps with the training step. The
pre-fill is computed exactly as the app computes it (8-bit RGB, ``cv2.inpaint`` radius 3,
``INPAINT_NS``), so the network is trained on the input it will see.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .captions import describe_pixels
from .data import read_listing
from .masks import MaskFamily, generate_mask, generate_mixed
from .network import TEXT_EMBEDDING_SIZE

SYNTHETIC = "synthetic"
NO_TEXT = "none"


@dataclass
class DataConfig:
    #: A folder made by ``python -m models.data prepare``, or "synthetic" (generated images; tests).
    photos: str = "data/photos"
    crop: int = 256
    #: Each photo is shrunk by a random factor in this range before cropping, so the crops
    #: see both fine texture and wide context.
    min_scale: float = 0.3
    max_scale: float = 1.0
    family_weights: dict[str, float] = field(default_factory=lambda: {"scratches": 0.3, "strokes": 0.35, "blobs": 0.35})
    #: Share of samples trained without any caption, so the model works without one.
    caption_drop: float = 0.5
    #: When a photo has a user caption (photo.txt), how often it is used instead of a generated one.
    user_caption_prob: float = 0.5
    #: Share of *captioned* holes whose true content is recoloured before the caption is made.
    #: In a real photo the hole's colour is nearly always predictable from its surroundings, so
    #: a network never needs the caption and learns to ignore it (the session-1 model did).
    #: A recoloured hole can only be filled correctly by reading the caption.
    recolour_prob: float = 0.0
    #: Text encoder id in ``models_dir`` (the app's own encoder), or "none" for zero embeddings.
    text_encoder: str = "minilm-l6-text"
    models_dir: str = "resources/models"
    synthetic_count: int = 16
    synthetic_size: int = 96


def synthetic_photo(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A photo-like uint8 RGB image: smooth gradient, shapes, stripes and grain. For tests and
    smoke runs only; real training uses real photographs."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.random(3) * 0.6 + 0.2
    slope = rng.normal(0, 0.3, (2, 3)).astype(np.float32)
    img = base + (yy[..., None] / height) * slope[0] + (xx[..., None] / width) * slope[1]
    freq = rng.uniform(0.05, 0.4)
    img += 0.08 * np.sin(xx * freq + yy * rng.uniform(-0.3, 0.3))[..., None] * rng.random(3)
    for _ in range(int(rng.integers(2, 6))):
        colour = tuple(float(c) for c in rng.random(3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(img, centre, int(rng.integers(4, max(6, min(height, width) // 3))), colour, -1)
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def ns_prefill(rgb8: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The app's pre-fill: ``cv2.inpaint`` (radius 3, Navier-Stokes) on 8-bit RGB."""
    return cv2.inpaint(rgb8, (mask > 0).astype(np.uint8), 3, cv2.INPAINT_NS)


def load_photos(config: DataConfig, split: str, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """(uint8 RGB photos, user captions) of one split."""
    if config.photos == SYNTHETIC:
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        size = config.synthetic_size
        return [synthetic_photo(rng, size, size + 16) for _ in range(config.synthetic_count)], [""] * config.synthetic_count
    folder = Path(config.photos)
    records = read_listing(folder, split)
    if not records:
        raise ValueError(f"{folder}/files.csv lists no '{split}' photos")
    photos = [cv2.cvtColor(cv2.imread(str(folder / r.file), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for r in records]
    return photos, [r.caption for r in records]


class Captioner:
    """Caption text -> embedding with the app's own encoder (so training and the app agree
    on what a description means); a cache makes repeated captions free."""

    def __init__(self, config: DataConfig) -> None:
        self.encoder = None
        if config.text_encoder != NO_TEXT:
            from restorer_app.engine.registry import ModelRegistry
            from restorer_app.engine.runtime import SessionFactory
            from restorer_app.engine.text import TextEncoder

            registry = ModelRegistry([Path(config.models_dir)], SessionFactory(cpu_threads=1))
            # Generated captions repeat a lot (a few hundred distinct ones): cache them all.
            self.encoder = TextEncoder.from_registry(registry, config.text_encoder, cache_size=20000)

    def embed(self, caption: str) -> np.ndarray:
        if not caption or self.encoder is None:
            return np.zeros(TEXT_EMBEDDING_SIZE, np.float32)
        return self.encoder.embed(caption)


def make_sample(photo: np.ndarray, user_caption: str, config: DataConfig, rng: np.random.Generator,
                captioner: Captioner, family: MaskFamily | None = None, mask_maker=None) -> dict:
    """One training sample from one photo (random scale, crop, flip, mask, pre-fill, caption).

    ``mask_maker(size, rng) -> (family index, mask)`` replaces the inpainting mask families
    (the generation model's own, :mod:`models.gen_masks`)."""
    crop = config.crop
    h, w = photo.shape[:2]
    smallest = crop / min(h, w)
    scale = max(smallest, rng.uniform(config.min_scale, config.max_scale))
    if scale < 1.0:
        photo = cv2.resize(photo, (max(crop, round(w * scale)), max(crop, round(h * scale))), interpolation=cv2.INTER_AREA)
    elif smallest > 1.0:  # photo smaller than a crop: enlarge just enough
        photo = cv2.resize(photo, (max(crop, round(w * smallest)), max(crop, round(h * smallest))), interpolation=cv2.INTER_CUBIC)
    h, w = photo.shape[:2]
    y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
    target = photo[y:y + crop, x:x + crop]
    if rng.random() < 0.5:
        target = target[:, ::-1]
    target = np.ascontiguousarray(target)
    weights = {MaskFamily.parse(k): v for k, v in config.family_weights.items()}
    if mask_maker is not None:
        family_index, mask = mask_maker(crop, rng)
    elif family is None:
        family, mask = generate_mixed(crop, crop, rng, weights)
    else:
        mask = generate_mask(family, crop, crop, rng)
    caption = ""
    if rng.random() >= config.caption_drop:
        if user_caption and rng.random() < config.user_caption_prob:
            caption = user_caption
        else:
            if config.recolour_prob and rng.random() < config.recolour_prob:
                target = recolour_inside(target, mask > 0, rng)
            caption = describe_pixels(target.astype(np.float32) / 255.0, mask > 0, rng)
    # Pre-fill after recolouring: cv2.inpaint reads only pixels outside the hole, so the
    # context the network sees is the untouched photo.
    prefill = ns_prefill(target, mask)
    to_chw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float() / 255.0  # noqa: E731
    return {
        "target": to_chw(target),
        "image": to_chw(prefill),
        "mask": torch.from_numpy((mask > 0).astype(np.float32))[None],
        "text": torch.from_numpy(captioner.embed(caption)),
        "family": family_index if mask_maker is not None else list(MaskFamily).index(family),
    }


def recolour_inside(rgb8: np.ndarray, inside: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rgb8`` with the pixels under ``inside`` given a random new colour and brightness.

    Texture survives (value keeps its local variation), so the network still learns to
    continue structure while taking the colour from the caption. One in six recolourings is
    achromatic (black, grey or white captions need examples too).
    """
    hsv = cv2.cvtColor(rgb8, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hole_v = v[inside]
    mean_v = float(hole_v.mean()) if hole_v.size else 128.0
    target_v = float(rng.choice([rng.uniform(25, 80), rng.uniform(90, 170), rng.uniform(180, 250)]))
    detail = float(rng.uniform(0.5, 1.0))
    new_v = np.clip(target_v + (v - mean_v) * detail, 0, 255)
    if rng.random() < 1 / 6:
        new_s = np.minimum(s, 20.0)
        new_h = h
    else:
        new_h = np.full_like(h, rng.uniform(0, 256))
        new_s = np.clip(rng.uniform(110, 240) + (s - s[inside].mean()) * 0.3, 0, 255) if inside.any() else s
    recoloured = cv2.cvtColor(np.dstack([new_h, new_s, new_v]).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
    out = rgb8.copy()
    out[inside] = recoloured[inside]
    return out


class InpaintCrops(IterableDataset):
    """An endless stream of samples. Each worker draws from its own generator seeded by
    (seed, worker id, start step), so a resumed run continues with fresh samples."""

    def __init__(self, config: DataConfig, split: str = "train", seed: int = 0, start_step: int = 0) -> None:
        super().__init__()
        self.config, self.split, self.seed, self.start_step = config, split, seed, start_step

    def __iter__(self):
        info = get_worker_info()
        worker = info.id if info else 0
        photos, captions = load_photos(self.config, self.split, self.seed)
        captioner = Captioner(self.config)
        rng = np.random.default_rng([self.seed, worker, self.start_step])
        areas = np.array([p.shape[0] * p.shape[1] for p in photos], np.float64)
        probs = np.sqrt(areas) / np.sqrt(areas).sum()  # bigger photos hold more distinct crops
        while True:
            index = int(rng.choice(len(photos), p=probs))
            yield make_sample(photos[index], captions[index], self.config, rng, captioner)


def fixed_batch(config: DataConfig, split: str, per_family: int, seed: int = 1234) -> dict:
    """A deterministic batch with ``per_family`` samples of each mask family (validation)."""
    photos, captions = load_photos(config, split, seed)
    config = replace(config, recolour_prob=0.0)  # validation measures real photos only
    rng = np.random.default_rng(seed)
    captioner = Captioner(config)
    samples = []
    for family in MaskFamily:
        for i in range(per_family):
            index = (i * 7 + list(MaskFamily).index(family)) % len(photos)
            samples.append(make_sample(photos[index], captions[index], config, rng, captioner, family))
    return collate(samples)


def collate(samples: list[dict]) -> dict:
    return {key: (torch.stack([s[key] for s in samples]) if torch.is_tensor(samples[0][key])
                  else torch.tensor([s[key] for s in samples])) for key in samples[0]}


def worker_init(_: int) -> None:
    """Keep each worker to one thread: the machine has two cores and the trainer needs them."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
