"""Train the generation model: the inpainter with a latent code, for torn corners, large losses
and extended canvas, where more than one fill is right.

    nice -n 19 python -m models.train_generate --config models/configs/generate.yaml --out runs/generate

The recipe (``GenerateLossConfig``): every photo in a batch is filled ``samples`` times with
different latent codes. Only the best of those fills is scored against the truth (hole L1,
"best of many": a fill that differs from the truth is not punished as long as another code
found it), so the codes spread over the plausible fills instead of averaging them; a hinge
term asks for at least ``diversity_target`` mean difference between two codes' fills; the
PatchGAN (adversarial + feature matching) judges every fill, so each one has to look like the
photo. Warm-started from the shipped inpainting model (same network plus two 3x3 latent
convolutions). Resumes from ``<out>/checkpoints/last.pt`` like ``models.train``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .dataset import Captioner, collate, load_photos, make_sample
from .gen_masks import GenerationFamily, generation_mask
from .losses import (discriminator_loss, feature_matching, generator_adversarial_loss, hole_psnr,
                     patch_weights)
from .masks import MaskFamily, generate_mask
from .network import LATENT_CHANNELS, LATENT_STRIDE
from .texture_metrics import hole_ssim, mean_of_finite, texture_distance
from .train import LossConfig, Trainer, TrainConfig, _rgb8, make_loader, parse_command, train

#: The mask families, in the order their index is stored in a sample: the three generation
#: families, then the inpainter's blobs (interior holes, so the model stays sane on them).
FAMILIES = [f.value for f in GenerationFamily] + ["blobs"]


@dataclass
class GenerateLossConfig(LossConfig):
    #: Fills per photo, each with its own latent code.
    samples: int = 2
    #: Weight of the mean hole L1 of all fills beside the best one's (keeps every code sane).
    mean_l1: float = 0.1
    diversity: float = 0.1
    #: Mean absolute difference (0-1 scale) between two codes' fills below which the
    #: diversity hinge pushes them apart.
    diversity_target: float = 0.03
    adversarial: float = 0.02
    feature_matching: float = 0.1
    adversarial_kind: str = "hinge"
    gan_start: int = 0


@dataclass
class GenerateTrainConfig(TrainConfig):
    generator_name: str = "latent-film-unet"
    loss: GenerateLossConfig = field(default_factory=GenerateLossConfig)
    #: Share of each mask family in training (FAMILIES).
    families: dict[str, float] = field(default_factory=lambda: {"border": 0.35, "large": 0.3, "extend": 0.25,
                                                                 "blobs": 0.1})
    reinit: list[str] = field(default_factory=lambda: ["latent_in", "latent_mid"])


def draw_mask(size: int, rng: np.random.Generator, weights: dict[str, float]) -> tuple[int, np.ndarray]:
    names = [n for n in FAMILIES if weights.get(n, 0) > 0]
    unknown = sorted(set(weights) - set(FAMILIES))
    if unknown:
        raise ValueError(f"Unknown mask families {unknown}; known: {FAMILIES}")
    probs = np.array([weights[n] for n in names], np.float64)
    name = names[int(rng.choice(len(names), p=probs / probs.sum()))]
    return FAMILIES.index(name), family_mask(name, size, rng)


def family_mask(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if name == "blobs":
        return generate_mask(MaskFamily.BLOBS, size, size, rng)
    return generation_mask(GenerationFamily.parse(name), size, size, rng)


class _Maker:
    """A picklable mask maker for make_sample (DataLoader workers are spawned)."""

    def __init__(self, weights: dict[str, float], name: str | None = None) -> None:
        self.weights, self.name = weights, name

    def __call__(self, size: int, rng: np.random.Generator) -> tuple[int, np.ndarray]:
        if self.name is not None:
            return FAMILIES.index(self.name), family_mask(self.name, size, rng)
        return draw_mask(size, rng, self.weights)


class GenerationCrops(IterableDataset):
    """Endless samples with the generation masks (the inpainter's crops, captions and pre-fill)."""

    def __init__(self, config: GenerateTrainConfig, start_step: int = 0) -> None:
        super().__init__()
        self.config, self.start_step = config, start_step

    def __iter__(self):
        info = get_worker_info()
        worker = info.id if info else 0
        data = self.config.data
        photos, captions = load_photos(data, "train", self.config.seed)
        captioner = Captioner(data)
        rng = np.random.default_rng([self.config.seed, worker, self.start_step, 7])
        areas = np.array([p.shape[0] * p.shape[1] for p in photos], np.float64)
        probs = np.sqrt(areas) / np.sqrt(areas).sum()
        maker = _Maker(dict(self.config.families))
        while True:
            index = int(rng.choice(len(photos), p=probs))
            yield make_sample(photos[index], captions[index], data, rng, captioner, mask_maker=maker)


def validation_batch(config: GenerateTrainConfig, per_family: int | None = None, seed: int = 4321) -> dict:
    """A fixed batch: ``per_family`` validation crops of each family, without captions."""
    per_family = per_family or config.validation_per_family
    data = replace(config.data, recolour_prob=0.0, caption_drop=1.0)
    photos, captions = load_photos(data, "val", seed)
    rng = np.random.default_rng(seed)
    captioner = Captioner(data)
    samples = []
    for f, name in enumerate(FAMILIES):
        for i in range(per_family):
            index = (i * 5 + f) % len(photos)
            samples.append(make_sample(photos[index], captions[index], data, rng, captioner,
                                       mask_maker=_Maker({}, name)))
    return collate(samples)


def latent_codes(batch: int, height: int, width: int, generator: torch.Generator | None = None,
                 device=None) -> torch.Tensor:
    """Standard normal codes at the bottleneck's size (what the app draws from a seed)."""
    return torch.randn(batch, LATENT_CHANNELS, height // LATENT_STRIDE, width // LATENT_STRIDE,
                       generator=generator, device=device)


def per_sample_hole_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    error = (output - target).abs().mean(1, keepdim=True)
    return (error * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1.0)


class GenerateTrainer(Trainer):
    """The inpainter's trainer with K fills per photo, best-of-K L1 and a diversity hinge."""

    config: GenerateTrainConfig

    def train_step(self, batch: dict) -> dict[str, float]:
        c, loss = self.config, self.config.loss
        factor = self.begin_step()
        batch = self.to_device(batch)
        k = max(1, int(loss.samples))
        image, mask, target, text = batch["image"], batch["mask"], batch["target"], batch["text"]
        n = image.shape[0]
        rep = lambda t: t.repeat(k, *([1] * (t.dim() - 1)))  # noqa: E731  sample-major: [s0 x n, s1 x n, ...]
        images, masks, targets, texts = rep(image), rep(mask), rep(target), rep(text)
        images, masks, targets = (t.contiguous(memory_format=self.memory_format) for t in (images, masks, targets))
        codes = latent_codes(n * k, image.shape[2], image.shape[3], device=self.device)
        gan = self.gan_active()
        logs: dict[str, float] = {}

        self.generator.train()
        with self.autocast():
            output = self.generator(images, masks, texts, codes)
        output = output.float()

        if gan:
            self.discriminator.train().requires_grad_(True)
            with self.autocast():
                real_logits, real_features = self.discriminator(target, mask)
                fake_logits, _ = self.discriminator(output.detach(), masks)
            d_loss = discriminator_loss(loss.adversarial_kind, real_logits.float(), fake_logits.float(),
                                        patch_weights(masks, fake_logits))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            torch.nn.utils.clip_grad_norm_(self.discriminator.parameters(), c.optim.grad_clip)
            self.opt_d.step()
            logs["d"] = d_loss.item()
            real_features = [f.detach() for f in real_features]

        l1_all = per_sample_hole_l1(output, targets, masks).view(k, n)
        best, best_index = l1_all.min(dim=0)
        l1 = best.mean()
        g_loss = loss.l1_hole * l1 + loss.mean_l1 * l1_all.mean()
        logs["l1"], logs["l1_mean"] = l1.item(), l1_all.mean().item()
        if k > 1:
            fills = output.view(k, n, *output.shape[1:])
            hole = mask.float()
            area = (3 * hole.flatten(1).sum(1)).clamp(min=1.0)
            spread = ((fills[0] - fills[1]).abs() * hole).flatten(1).sum(1) / area
            div = torch.relu(loss.diversity_target - spread).mean()
            g_loss = g_loss + loss.diversity * div
            logs["spread"] = 255.0 * spread.mean().item()
        if gan:
            self.discriminator.requires_grad_(False)
            with self.autocast():
                fake_logits, fake_features = self.discriminator(output, masks)
            adv = generator_adversarial_loss(loss.adversarial_kind, fake_logits.float(), patch_weights(masks, fake_logits))
            # Feature matching for the best fill of each photo only: matching every fill to
            # the one truth would pull the codes back together.
            chosen = best_index * n + torch.arange(n, device=self.device)
            fm = feature_matching([f.float()[chosen] for f in fake_features], [f.float() for f in real_features])
            g_loss = g_loss + loss.adversarial * adv + loss.feature_matching * fm
            logs["adv"], logs["fm"] = adv.item(), fm.item()
        return self.finish_step(g_loss, logs, factor)

    @torch.no_grad()
    def validate(self, batch: dict) -> dict[str, float]:
        """Per family: hole-PSNR of the EMA model with one fixed code (``val_``) and its gain
        over the Navier-Stokes input (``gain_``), the best of four codes (``best4_``), the
        spread of the four fills (``spread_``: mean per-pixel standard deviation inside the
        hole, 8-bit levels), hole-SSIM and texture distance of the first code's fill."""
        batch = self.to_device(batch)
        image, mask, target, text = batch["image"], batch["mask"], batch["target"], batch["text"]
        n, _, h, w = image.shape
        seeded = torch.Generator().manual_seed(99)
        fills = []
        for _ in range(4):
            codes = latent_codes(n, h, w, seeded).to(self.device)
            with self.autocast():
                fills.append(self.ema(image, mask, text, codes).float().clamp(0, 1))
        stack = torch.stack(fills)
        psnr = torch.stack([hole_psnr(f, target, mask) for f in fills])
        ns = hole_psnr(image, target, mask)
        area = (mask.flatten(1).sum(1) * 3).clamp(min=1.0)
        spread = (stack.std(0) * mask).flatten(1).sum(1) / area * 255.0
        rgb, truths = _rgb8(fills[0]), _rgb8(target)
        holes = (mask[:, 0] > 0.5).cpu().numpy()
        ssim = np.array([hole_ssim(f, t, m) for f, t, m in zip(rgb, truths, holes)])
        texture = np.array([texture_distance(f, t, m) for f, t, m in zip(rgb, truths, holes)])
        families = batch["family"].cpu().numpy()
        result = {}
        for index, name in enumerate(FAMILIES):
            chosen = families == index
            if not chosen.any():
                continue
            pick = torch.from_numpy(chosen).to(psnr.device)
            result[f"val_{name}"] = float(psnr[0][pick].mean())
            result[f"gain_{name}"] = float((psnr[0] - ns)[pick].mean())
            result[f"best4_{name}"] = float(psnr.max(0).values[pick].mean())
            result[f"spread_{name}"] = float(spread[pick].mean())
            result[f"hole_ssim_{name}"] = float(np.mean(ssim[chosen]))
            measured = mean_of_finite(texture[chosen])
            if measured is not None:
                result[f"texture_{name}"] = measured
        return result


def make_generation_loader(config: GenerateTrainConfig, start_step: int):
    return make_loader(config, start_step, GenerationCrops(config, start_step))


def main(argv: list[str] | None = None) -> None:
    config, args = parse_command(argv, "python -m models.train_generate", __doc__.split("\n\n")[0],
                                 GenerateTrainConfig, Path("models/configs/generate.yaml"), Path("runs/generate"))
    train(config, args.out, args.max_minutes, trainer_class=GenerateTrainer, loader_fn=make_generation_loader,
          validation_fn=validation_batch)


if __name__ == "__main__":
    main(sys.argv[1:])
