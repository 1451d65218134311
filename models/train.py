"""Train the inpainting generator.

    nice -n 19 python -m models.train --config models/configs/default.yaml --out runs/default

Resumes by itself from ``<out>/checkpoints/last.pt``. Every checkpoint has the resolved
config beside it (``step_XXXXXXX.yaml``) and inside it; ``metrics.jsonl`` holds the losses
and the validation hole-PSNR of the EMA generator per mask family against the Navier-Stokes
input, with its hole-SSIM and texture distance (``models/texture_metrics.py``). On this 2-core
CPU, bf16 autocast with channels_last is about 3x faster than fp32 (models/HISTORY.md);
``--device cuda`` trains on an NVIDIA GPU with the same command.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .dataset import DataConfig, InpaintCrops, collate, fixed_batch, worker_init
from .losses import (discriminator_loss, feature_matching, generator_adversarial_loss, hole_l1, hole_log_mse,
                     hole_psnr, patch_weights, r1_penalty)
from .masks import MaskFamily
from .network import (DiscriminatorConfig, GeneratorConfig, InpaintGenerator, PatchDiscriminator,
                      build_discriminator, build_generator, count_parameters)
from .texture_metrics import hole_ssim, mean_of_finite, texture_distance

MAX_GENERATOR_PARAMETERS = 4_000_000


@dataclass
class LossConfig:
    l1_hole: float = 1.0
    #: Weight of the per-sample log hole-MSE (a PSNR loss): fine-tuning with it trades a little
    #: sharpness for hole-PSNR, the fill moving from the median towards the mean.
    log_mse_hole: float = 0.0
    #: Adversarial and feature-matching terms sharpen what L1 leaves soft; they start after
    #: ``gan_start`` steps so the discriminator meets a generator that already fills sensibly.
    adversarial: float = 0.01
    feature_matching: float = 0.1
    adversarial_kind: str = "logistic"  # "logistic" (+ R1) or "hinge"
    gan_start: int = 3000
    #: Step at which the adversarial terms end again (None: never), for a final L1-only phase.
    gan_stop: int | None = None
    r1_gamma: float = 1.0
    r1_every: int = 8


@dataclass
class OptimConfig:
    #: AdamW at 8e-4 was stable here; 2e-3 diverged right after warm-up (models/HISTORY.md).
    lr_generator: float = 8e-4
    lr_discriminator: float = 4e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 1e-4
    warmup: int = 500
    #: "cosine" decays to ``final_lr_fraction`` at ``steps``; "constant" keeps the peak.
    schedule: str = "cosine"
    final_lr_fraction: float = 0.1
    grad_clip: float = 1.0
    #: Skip the generator update when a batch's L1 exceeds this multiple of its running mean:
    #: without normalisation layers a rare batch can spike, and Adam would take a full step.
    spike_factor: float = 5.0


@dataclass
class TrainConfig:
    name: str = "default"
    seed: int = 0
    steps: int = 30000
    batch: int = 8
    generator_name: str = "film-unet"
    discriminator_name: str = "patchgan"
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    ema_decay: float = 0.999
    device: str = "cpu"
    #: "bf16" autocast (CPU with avx512_bf16, or CUDA) or "none" for fp32.
    precision: str = "bf16"
    channels_last: bool = True
    threads: int = 1
    workers: int = 1
    log_every: int = 50
    checkpoint_every: int = 500
    validate_every: int = 500
    validation_per_family: int = 8
    keep_checkpoints: int = 3
    #: Warm start: a checkpoint whose generator (and EMA) weights initialise a new run, except
    #: the parameters whose names start with one of ``reinit`` (those keep their fresh init).
    #: An exported ``.onnx`` model works too (its weights keep their torch names), so a fresh
    #: clone can continue from the shipped model without the original checkpoint.
    init_from: str | None = None
    reinit: list[str] = field(default_factory=list)

    # ------------------------------------------------------------- (de)serialisation

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, raw: dict) -> "TrainConfig":
        return _build(cls, raw, "config")

    @classmethod
    def load(cls, path: Path, overrides: list[str] = ()) -> "TrainConfig":
        """Read YAML or JSON; ``overrides`` are ``dotted.key=value`` strings (value parsed as YAML)."""
        import yaml

        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for item in overrides:
            key, _, value = item.partition("=")
            node = raw
            *parents, leaf = key.strip().split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = yaml.safe_load(value)
        return cls.from_dict(raw)

    def save(self, path: Path) -> None:
        import yaml

        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _build(cls, raw: dict, where: str):
    """Typed construction that rejects unknown keys (a typo must not silently train the default)."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping, got {raw!r}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"Unknown setting(s) {unknown} in {where}; known: {sorted(known)}")
    defaults = cls()
    values = {}
    for name, value in raw.items():
        current = getattr(defaults, name)
        if dataclasses.is_dataclass(current):
            values[name] = _build(type(current), value, f"{where}.{name}")
        elif isinstance(current, tuple):
            values[name] = tuple(value)
        elif isinstance(current, bool):
            values[name] = bool(value)
        elif isinstance(current, float):
            values[name] = float(value)
        elif isinstance(current, int):
            values[name] = int(value)
        else:
            values[name] = value
    return cls(**values)


# --------------------------------------------------------------------------- trainer

def build_models(config: TrainConfig) -> tuple[InpaintGenerator, PatchDiscriminator]:
    generator = build_generator(config.generator_name, config.generator)
    discriminator = build_discriminator(config.discriminator_name, config.discriminator)
    params = count_parameters(generator)
    if params > MAX_GENERATOR_PARAMETERS:
        raise ValueError(f"The generator has {params:,} parameters; the budget is {MAX_GENERATOR_PARAMETERS:,}.")
    return generator, discriminator


def onnx_weights(path: Path) -> dict[str, torch.Tensor]:
    """The named weights of an exported model, as a generator state dict (the exporter keeps
    parameter names; its own constants, named ``val_*``, are left out)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    return {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer
            if not i.name.startswith("val_")}


class Trainer:
    """Owns the networks, optimisers, EMA copy and one training step."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.device = torch.device(config.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise SystemExit("--device cuda was asked for, but torch sees no CUDA device.")
        torch.manual_seed(config.seed)
        self.generator, self.discriminator = build_models(config)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        self.memory_format = memory_format
        for net in (self.generator, self.discriminator, self.ema):
            net.to(self.device, memory_format=memory_format)
        o = config.optim
        self.opt_g = torch.optim.AdamW(self.generator.parameters(), lr=o.lr_generator, betas=o.betas,
                                       weight_decay=o.weight_decay)
        self.opt_d = torch.optim.AdamW(self.discriminator.parameters(), lr=o.lr_discriminator, betas=o.betas,
                                       weight_decay=o.weight_decay)
        self.step = 0
        self.elapsed_seconds = 0.0  # training wall time over all resumes (for the model card)
        if config.init_from:
            self.warm_start(Path(config.init_from), tuple(config.reinit))
        self.l1_mean: float | None = None  # running mean of the batch L1 (spike guard)
        if config.precision not in ("bf16", "none"):
            raise ValueError(f"Unknown precision '{config.precision}'; use bf16 or none")

    # ---------------------------------------------------------------- helpers

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16")

    def lr_factor(self, step: int) -> float:
        o = self.config.optim
        if step < o.warmup:
            return (step + 1) / o.warmup
        if o.schedule == "constant":
            return 1.0
        if o.schedule != "cosine":
            raise ValueError(f"Unknown schedule '{o.schedule}'; use cosine or constant")
        progress = min(1.0, (step - o.warmup) / max(1, self.config.steps - o.warmup))
        return o.final_lr_fraction + (1 - o.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

    def to_device(self, batch: dict) -> dict:
        out = {}
        for key, value in batch.items():
            value = value.to(self.device, non_blocking=True)
            out[key] = value.contiguous(memory_format=self.memory_format) if value.dim() == 4 else value
        return out

    # ------------------------------------------------------------------- step

    def train_step(self, batch: dict) -> dict[str, float]:
        """One optimisation step (discriminator first once the GAN phase began)."""
        c, step = self.config, self.step
        factor = self.begin_step()
        batch = self.to_device(batch)
        image, mask, target, text = batch["image"], batch["mask"], batch["target"], batch["text"]
        gan = self.gan_active()
        logs: dict[str, float] = {}

        self.generator.train()
        with self.autocast():
            output = self.generator(image, mask, text)
        output = output.float()

        real_features = None
        if gan:
            self.discriminator.train().requires_grad_(True)
            with self.autocast():
                real_logits, real_features = self.discriminator(target, mask)
                fake_logits, _ = self.discriminator(output.detach(), mask)
            weights = patch_weights(mask, fake_logits)
            d_loss = discriminator_loss(c.loss.adversarial_kind, real_logits.float(), fake_logits.float(), weights)
            if c.loss.adversarial_kind == "logistic" and c.loss.r1_gamma > 0 and step % c.loss.r1_every == 0:
                r1 = r1_penalty(self.discriminator, target, mask)
                d_loss = d_loss + 0.5 * c.loss.r1_gamma * c.loss.r1_every * r1
                logs["r1"] = r1.item()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            torch.nn.utils.clip_grad_norm_(self.discriminator.parameters(), c.optim.grad_clip)
            self.opt_d.step()
            logs["d"] = d_loss.item()
            real_features = [f.detach() for f in real_features]

        l1 = hole_l1(output, target, mask)
        g_loss = c.loss.l1_hole * l1
        logs["l1"] = l1.item()
        if c.loss.log_mse_hole:
            log_mse = hole_log_mse(output, target, mask)
            g_loss = g_loss + c.loss.log_mse_hole * log_mse
            logs["log_mse"] = log_mse.item()
        if gan:
            self.discriminator.requires_grad_(False)
            with self.autocast():
                fake_logits, fake_features = self.discriminator(output, mask)
            weights = patch_weights(mask, fake_logits)
            adv = generator_adversarial_loss(c.loss.adversarial_kind, fake_logits.float(), weights)
            fm = feature_matching([f.float() for f in fake_features], [f.float() for f in real_features])
            g_loss = g_loss + c.loss.adversarial * adv + c.loss.feature_matching * fm
            logs["adv"], logs["fm"] = adv.item(), fm.item()
        return self.finish_step(g_loss, logs, factor)

    def begin_step(self) -> float:
        """Set both optimisers' learning rates for this step; returns the schedule's factor."""
        o = self.config.optim
        factor = self.lr_factor(self.step)
        for group in self.opt_g.param_groups:
            group["lr"] = o.lr_generator * factor
        for group in self.opt_d.param_groups:
            group["lr"] = o.lr_discriminator * factor
        return factor

    def gan_active(self) -> bool:
        """Whether the adversarial terms are on at this step."""
        loss, step = self.config.loss, self.step
        return loss.adversarial > 0 and step >= loss.gan_start and (loss.gan_stop is None or step < loss.gan_stop)

    def finish_step(self, g_loss: torch.Tensor, logs: dict[str, float], factor: float) -> dict[str, float]:
        """The generator update for ``g_loss`` (skipped when ``logs["l1"]`` spikes), the EMA
        and the step count; returns ``logs`` with the loss and learning rate added."""
        c, step = self.config, self.step
        if not torch.isfinite(g_loss.detach()):
            raise FloatingPointError(f"The generator loss became {float(g_loss)} at step {step}; "
                                     "lower the learning rate or resume from an earlier checkpoint.")
        self.opt_g.zero_grad(set_to_none=True)
        spike = self.l1_mean is not None and step > c.optim.warmup // 2 and logs["l1"] > c.optim.spike_factor * self.l1_mean
        if spike:
            logs["skipped"] = 1.0
        else:
            g_loss.backward()
            logs["grad"] = float(torch.nn.utils.clip_grad_norm_(self.generator.parameters(), c.optim.grad_clip))
            self.opt_g.step()
            self.l1_mean = logs["l1"] if self.l1_mean is None else 0.98 * self.l1_mean + 0.02 * logs["l1"]
        self.update_ema()
        self.step += 1
        logs["loss"] = g_loss.item()
        logs["lr"] = c.optim.lr_generator * factor
        return logs

    @torch.no_grad()
    def update_ema(self) -> None:
        # Short warm-up of the decay so early checkpoints are not dominated by the random init.
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for ema, live in zip(self.ema.parameters(), self.generator.parameters()):
            ema.lerp_(live, 1.0 - decay)

    @torch.no_grad()
    def validate(self, batch: dict) -> dict[str, float]:
        """Hole-PSNR of the EMA generator without a description and of its NS input, per mask
        family (the quality goals are about fills without one); what the captions do to it
        (``caption_<family>``: hole-PSNR with the sample's true caption minus without, on the
        captioned samples); and how much the captions change the fill (``text_effect``: mean
        absolute change inside the holes, in 8-bit levels; zero means the text is ignored).
        ``hole_ssim_<family>`` and ``texture_<family>`` score the same fills without a description
        (:mod:`models.texture_metrics`; a few milliseconds per crop)."""
        batch = self.to_device(batch)
        with self.autocast():
            output = self.ema(batch["image"], batch["mask"], batch["text"]).float()
            silent = self.ema(batch["image"], batch["mask"], torch.zeros_like(batch["text"])).float()
        captioned = batch["text"].abs().sum(dim=1) > 0
        change = ((output - silent).abs() * batch["mask"]).sum(dim=(1, 2, 3)) / (3 * batch["mask"].sum(dim=(1, 2, 3)))
        ours = hole_psnr(silent, batch["target"], batch["mask"])
        described = hole_psnr(output, batch["target"], batch["mask"])
        ns = hole_psnr(batch["image"], batch["target"], batch["mask"])
        result = {}
        for index, family in enumerate(MaskFamily):
            chosen = batch["family"] == index
            if chosen.any():
                result[f"val_{family.value}"] = float(ours[chosen].mean())
                result[f"gain_{family.value}"] = float((ours[chosen] - ns[chosen]).mean())
            if (chosen & captioned).any():
                result[f"caption_{family.value}"] = float((described - ours)[chosen & captioned].mean())
        if captioned.any():
            result["text_effect"] = float(255 * change[captioned].mean())
        fills, truths = _rgb8(silent), _rgb8(batch["target"])
        holes = (batch["mask"][:, 0] > 0.5).cpu().numpy()
        ssim = np.array([hole_ssim(f, t, h) for f, t, h in zip(fills, truths, holes)])
        texture = np.array([texture_distance(f, t, h) for f, t, h in zip(fills, truths, holes)])
        families = batch["family"].cpu().numpy()
        for index, family in enumerate(MaskFamily):
            chosen = families == index
            if chosen.any():
                result[f"hole_ssim_{family.value}"] = float(np.mean(ssim[chosen]))
                measured = mean_of_finite(texture[chosen])
                if measured is not None:  # thin scratches on a small crop can leave nothing to measure
                    result[f"texture_{family.value}"] = measured
        return result

    # ------------------------------------------------------------- checkpoints

    def state_dict(self) -> dict:
        return {
            "step": self.step, "config": self.config.to_dict(), "elapsed_seconds": self.elapsed_seconds,
            "l1_mean": self.l1_mean,
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "ema": self.ema.state_dict(), "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        }

    def warm_start(self, checkpoint: Path, reinit: tuple[str, ...]) -> None:
        """Copy generator and EMA weights from ``checkpoint``, except names starting with ``reinit``."""
        if checkpoint.suffix == ".onnx":
            weights = onnx_weights(checkpoint)
            missing = sorted(k for k in set(self.generator.state_dict()) - set(weights) if not k.startswith(reinit))
            if missing:
                raise ValueError(f"{checkpoint} lacks the weights {', '.join(missing[:5])}: it was exported from a "
                                 "different network (or an untrained one), so training cannot start from it.")
            state = {"generator": weights, "ema": weights, "step": f"exported, {checkpoint.name}"}
        else:
            state = torch.load(checkpoint, map_location=self.device, weights_only=False)
        for net, key in ((self.generator, "generator"), (self.ema, "ema")):
            own = net.state_dict()
            kept = {k: v for k, v in state[key].items()
                    if not k.startswith(reinit) and k in own and own[k].shape == v.shape}
            own.update(kept)
            net.load_state_dict(own)
        fresh = sorted({k.split(".")[0] for k in self.generator.state_dict() if k not in kept})
        print(f"warm start from {checkpoint} (step {state.get('step')}); fresh: {', '.join(fresh) or 'none'}",
              file=sys.stderr)

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.ema.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.elapsed_seconds = float(state.get("elapsed_seconds", 0.0))
        self.l1_mean = state.get("l1_mean")
        rng = state.get("rng")
        if rng:
            torch.set_rng_state(rng["torch"])
            np.random.set_state(rng["numpy"])
            random.setstate(rng["python"])

    def save_checkpoint(self, folder: Path) -> Path:
        """``step_XXXXXXX.pt`` + its resolved config beside it, and ``last.pt`` (atomic)."""
        folder.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        path = folder / f"step_{self.step:07d}.pt"
        tmp = path.with_suffix(".pt.part")
        torch.save(state, tmp)
        os.replace(tmp, path)
        self.config.save(path.with_suffix(".yaml"))
        last_tmp = folder / "last.pt.part"
        torch.save(state, last_tmp)
        os.replace(last_tmp, folder / "last.pt")
        old = sorted(folder.glob("step_*.pt"))[:-self.config.keep_checkpoints]
        for stale in old:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".yaml").unlink(missing_ok=True)
        return path


def make_loader(config: TrainConfig, start_step: int, dataset=None):
    """Batches of ``dataset`` (default: the inpainter's crops) in DataLoader workers."""
    dataset = dataset if dataset is not None else InpaintCrops(config.data, "train", config.seed, start_step)
    return torch.utils.data.DataLoader(
        dataset, batch_size=config.batch, num_workers=config.workers, collate_fn=collate,
        worker_init_fn=worker_init, pin_memory=config.device.startswith("cuda"),
        persistent_workers=config.workers > 0, prefetch_factor=4 if config.workers > 0 else None,
        # spawn, not fork: the parent already runs ONNX Runtime (validation captions) and
        # torch thread pools, and a forked child of those deadlocks.
        multiprocessing_context="spawn" if config.workers > 0 else None,
    )


def _rgb8(images: torch.Tensor) -> np.ndarray:
    """B x 3 x H x W in [0, 1] -> B x H x W x 3 uint8, as the evaluation scores fills."""
    return (images.float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def train(config: TrainConfig, out: Path, max_minutes: float | None = None, quiet: bool = False,
          trainer_class: type[Trainer] | None = None, loader_fn=None, validation_fn=None) -> Trainer:
    """Run (or resume) training into ``out``; returns the trainer at the end.

    ``trainer_class``, ``loader_fn(config, start_step)`` and ``validation_fn(config)`` are the
    inpainter's unless given (the generation model's trainer passes its own)."""
    from tqdm import tqdm

    torch.set_num_threads(max(1, config.threads))
    random.seed(config.seed)
    np.random.seed(config.seed)
    out.mkdir(parents=True, exist_ok=True)
    checkpoints = out / "checkpoints"
    trainer = (trainer_class or Trainer)(config)
    last = checkpoints / "last.pt"
    if last.is_file():
        trainer.load_state_dict(torch.load(last, map_location=trainer.device, weights_only=False))
        print(f"resumed from {last} at step {trainer.step}", file=sys.stderr)
    config.save(out / "config.yaml")
    validation = (validation_fn(config) if validation_fn else
                  fixed_batch(config.data, "val", config.validation_per_family))
    metrics = open(out / "metrics.jsonl", "a", encoding="utf-8")
    stop = {"now": False}

    def request_stop(signum, _frame):  # SIGTERM/SIGINT: finish the step, save, exit cleanly
        stop["now"] = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    started = time.monotonic()
    elapsed_before = trainer.elapsed_seconds
    loader = iter((loader_fn or make_loader)(config, trainer.step))
    bar = tqdm(total=config.steps, initial=trainer.step, disable=quiet, mininterval=30, smoothing=0.05,
               dynamic_ncols=False, ncols=120)
    running: dict[str, float] = {}
    counts: dict[str, int] = {}  # per key: R1 is logged every few steps, and a resume cuts windows short
    try:
        while trainer.step < config.steps and not stop["now"]:
            logs = trainer.train_step(next(loader))
            for key, value in logs.items():
                running[key] = running.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
            bar.update(1)
            step = trainer.step
            if step % config.log_every == 0:
                means = {k: (v if k == "skipped" else v / counts[k]) for k, v in running.items()}
                running.clear()
                counts.clear()
                record = {"step": step, "time": round(time.monotonic() - started, 1), **means}
                bar.set_postfix(l1=f"{means['l1']:.4f}", grad=f"{means.get('grad', 0.0):.2f}")
                if step % config.validate_every == 0:
                    record.update(trainer.validate(validation))
                    bar.write(f"step {step}: " + " ".join(f"{k}={v:.2f}" for k, v in record.items()
                                                          if k.startswith("gain_")))
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
            trainer.elapsed_seconds = elapsed_before + time.monotonic() - started
            if step % config.checkpoint_every == 0:
                trainer.save_checkpoint(checkpoints)
            if max_minutes is not None and time.monotonic() - started > 60 * max_minutes:
                break
    finally:
        bar.close()
        trainer.save_checkpoint(checkpoints)
        metrics.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return trainer


def parse_command(argv: list[str] | None, prog: str, description: str, config_class: type[TrainConfig],
                  config: Path, out: Path) -> tuple[TrainConfig, argparse.Namespace]:
    """The training command line shared by the trainers: config file, output folder, device,
    threads, workers, a time limit and ``--set`` overrides."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", type=Path, default=config)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--device", help="cpu or cuda (overrides the config)")
    parser.add_argument("--threads", type=int, help="torch threads (overrides the config)")
    parser.add_argument("--workers", type=int, help="DataLoader workers (overrides the config)")
    parser.add_argument("--max-minutes", type=float, help="stop (and checkpoint) after this long")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.lr_generator=5e-4")
    args = parser.parse_args(argv)
    overrides = list(args.set)
    for key, value in (("device", args.device), ("threads", args.threads), ("workers", args.workers)):
        if value is not None:
            overrides.append(f"{key}={value}")
    return config_class.load(args.config, overrides), args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_command(argv, "python -m models.train", __doc__.split("\n\n")[0], TrainConfig,
                                 Path("models/configs/default.yaml"), Path("runs/default"))
    train(config, args.out, args.max_minutes)


if __name__ == "__main__":
    main(sys.argv[1:])
