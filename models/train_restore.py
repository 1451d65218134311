"""Train the restoration model on photos degraded by :mod:`models.degrade`.

``python -m models.train_restore --data data/photos --out runs/restore --minutes 60``;
``... --estimator-only --minutes 20 --lr 1e-3`` (optional: the level estimator alone, which never sees the
rest of the network, so it may run beside the first; writes ``estimator.pt``); then
``... --tone-only`` (the colour step; writes ``final.pt``: ``last.pt``'s network with
``estimator.pt``'s estimator, where there is one, and the colour step - what is exported).

The network is told the three levels that were added (denoise, deblock, sharpen, jittered a
little so that a slightly wrong estimate still gives a sensible result) and learns to remove
that much; its estimator learns the levels from the degraded photo alone. Loss: L1 on the
image (Charbonnier-smoothed) + 0.1 x L1 on the estimated levels. Crops come from a
:class:`~models.crop_pool.CropPool`; the learning rate follows the clock. Checkpoints every few
minutes and on SIGTERM/SIGINT.

The colour step (:class:`~models.restore_net.ToneNet`) learns apart, in a minute: thumbnails of
the training photos, faded and tinted by :func:`models.degrade.fade_and_cast` (and a share left
as they are), give the app's tone features (from their histograms, as the app gathers them);
the loss is the squared error of the curves applied to the faded pixels against the originals.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from .crop_pool import CropPool, clock_lr, save_checkpoint
from .degrade import DegradeConfig, degrade, fade_and_cast
from .restore_net import RestoreNet, RestorerConfig, apply_tone, config_from, count_parameters
from .train_detect import load_split, random_crop


class DegradedCrops:
    """The pool's factory: (degraded, target, levels) crops of the training photos."""

    def __init__(self, data: Path, size: int) -> None:
        self.data, self.size = data, size

    def __call__(self):
        photos = load_split(self.data, "train")
        config = DegradeConfig()

        def make(rng):
            sample = degrade(random_crop(photos[int(rng.integers(len(photos)))], self.size, rng), rng, config)
            return sample.image, sample.target, sample.levels

        return make


def charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


def restore_loss(net: RestoreNet, degraded: torch.Tensor, target: torch.Tensor, levels: torch.Tensor,
                 strength: torch.Tensor) -> tuple[torch.Tensor, dict]:
    restored, estimated = net(degraded, strength)
    image_loss = charbonnier(restored.float(), target)
    level_loss = (estimated.float().flatten(1) - levels).abs().mean()
    return image_loss + 0.1 * level_loss, {"image": image_loss.item(), "levels": level_loss.item()}


def to_tensors(degraded: np.ndarray, target: np.ndarray, levels: np.ndarray, rng: np.random.Generator):
    k = int(rng.integers(0, 4))
    degraded, target = np.rot90(degraded, k, axes=(1, 2)), np.rot90(target, k, axes=(1, 2))
    if rng.random() < 0.5:
        degraded, target = degraded[:, :, ::-1], target[:, :, ::-1]
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float().div_(255.0)  # noqa: E731
    x, y = as_tensor(degraded), as_tensor(target)
    told = np.clip(levels + rng.normal(0, 0.03, levels.shape), 0, 1).astype(np.float32)
    told[levels == 0] = np.clip(rng.normal(0, 0.03, int((levels == 0).sum())), 0, 1)
    strength = torch.from_numpy(told)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
    return (x.contiguous(memory_format=torch.channels_last), y, torch.from_numpy(levels),
            strength.contiguous(memory_format=torch.channels_last))


def load_weights(net: RestoreNet, weights: dict, without: tuple[str, ...] = ()) -> None:
    """Load a checkpoint's weights, leaving out those whose names start with ``without``; one
    from before the colour step had no ``tone`` part."""
    weights = {k: v for k, v in weights.items() if not k.startswith(without)} if without else weights
    missing, unexpected = net.load_state_dict(weights, strict=False)
    if unexpected or any(not name.startswith(("tone.",) + without) for name in missing):
        raise KeyError(f"checkpoint does not fit the network: missing {missing}, unexpected {unexpected}")


def tone_samples(photos: list[np.ndarray], repeats: int, clean_share: float, seed: int, side: int = 192,
                 pixels: int = 1024):
    """(features, faded pixels, original pixels) for ToneNet: each photo's thumbnail ``repeats``
    times, faded and tinted (or, ``clean_share`` of the time, left alone)."""
    from restorer_app.engine.restoration import tone_features

    rng = np.random.default_rng(seed)
    forced = DegradeConfig(fade_probability=1.0, cast_probability=0.7)
    thumbs = []
    for rgb in photos:
        scale = side / max(rgb.shape[:2])
        size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
        thumbs.append(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)
    features, faded_pixels, truth_pixels = [], [], []
    for _ in range(repeats):
        for thumb in thumbs:
            faded = thumb if rng.random() < clean_share else fade_and_cast(thumb, rng, forced)
            eight = np.clip(np.rint(faded * 255), 0, 255).astype(np.uint8)
            histograms = [np.bincount(eight[:, :, c].ravel(), minlength=256) for c in range(3)]
            features.append(tone_features(histograms, 255.0))
            pick = rng.integers(0, eight.shape[0] * eight.shape[1], pixels)
            faded_pixels.append(eight.reshape(-1, 3)[pick].astype(np.float32) / 255.0)
            truth_pixels.append(thumb.reshape(-1, 3)[pick])
    return tuple(torch.from_numpy(np.stack(a)) for a in (features, faded_pixels, truth_pixels))


def train_tone(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    config, start = config_from(state["config"]), "last.pt"
    estimator = None
    if (out / "estimator.pt").exists():
        estimator = torch.load(out / "estimator.pt", map_location="cpu", weights_only=False)
        saved = config_from(estimator["config"])
        config = RestorerConfig(config.widths, config.blocks, saved.estimator_width)
        start = "last.pt with estimator.pt's estimator"
    net = RestoreNet(config)
    if estimator is None:
        load_weights(net, state["model"])
    else:
        load_weights(net, state["model"], without=("estimator.",))
        net.estimator.load_state_dict({k[len("estimator."):]: v for k, v in estimator["model"].items()
                                       if k.startswith("estimator.")})
    started = time.time()
    features, faded, truth = tone_samples(load_split(Path(args.data), "train"), args.tone_repeats,
                                          args.tone_clean_share, args.seed)
    print(f"tone: {len(features)} samples from {start}", flush=True)
    optimiser = torch.optim.Adam(net.tone.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    running = None
    for step in range(args.tone_steps):
        pick = torch.randint(0, len(features), (256,), generator=generator)
        loss = ((apply_tone(net.tone(features[pick]), faded[pick]) - truth[pick]) ** 2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if (step + 1) % 500 == 0:
            print({"tone_step": step + 1, "mse": round(running, 6)}, flush=True)
    state["model"] = net.state_dict()
    state["config"] = asdict(config)
    state["tone"] = {"from": start, "steps": args.tone_steps, "samples": len(features),
                     "clean_share": args.tone_clean_share, "seconds": round(time.time() - started, 1),
                     "mse": round(running or 0.0, 6)}
    final = out / "final.pt"
    tmp = final.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(final)
    print(f"saved {final} ({state['tone']})", flush=True)


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / ("estimator.pt" if args.estimator_only else "last.pt")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False) if args.resume and checkpoint.exists() else None
    config = config_from(state["config"]) if state else RestorerConfig(widths=tuple(args.widths))
    net = RestoreNet(config).to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step, spent = 0, 0.0
    if args.estimator_only:  # only the estimator learns; it sees the photo alone, never the rest
        for name, parameter in net.named_parameters():
            parameter.requires_grad_(name.startswith("estimator."))
        optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=args.lr, weight_decay=1e-4)
    if state:
        load_weights(net, state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, spent = state["step"], state["seconds"]
    print(f"restorer: {count_parameters(net):,} parameters, widths {config.widths}", flush=True)
    pool = CropPool(DegradedCrops(Path(args.data), args.crop), args.pool, args.seed, args.producers)
    print(f"pool of {args.pool} crops ready; training for {args.minutes} min", flush=True)
    stopping = {"now": False}

    def request_stop(_signum, _frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    budget = args.minutes * 60.0
    started = time.time() - spent
    last_save = time.time()
    rng = np.random.default_rng(args.seed + 100)
    running: dict[str, float] = {}
    with open(out / "log.jsonl", "a") as log:
        while not stopping["now"]:
            elapsed = time.time() - started
            if elapsed >= budget:
                break
            pool.refresh()
            x, y, levels, strength = to_tensors(*pool.batch(args.batch), rng)
            for group in optimiser.param_groups:
                group["lr"] = clock_lr(args.lr, step, elapsed / budget)
            if args.estimator_only:
                estimated = net.estimator_levels(x)
                loss = (estimated.flatten(1) - levels).abs().mean()
                parts = {"levels": loss.item()}
            else:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                    loss, parts = restore_loss(net, x, y, levels, strength)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            step += 1
            for key, value in parts.items():
                running[key] = 0.98 * running.get(key, value) + 0.02 * value
            if step % 50 == 0:
                record = {"step": step, "minutes": round(elapsed / 60, 2), "lr": optimiser.param_groups[0]["lr"],
                          **{k: round(v, 5) for k, v in running.items()}}
                log.write(json.dumps(record) + "\n")
                log.flush()
                print(record, flush=True)
            if time.time() - last_save > 300:
                save_checkpoint(checkpoint, net, optimiser, step, time.time() - started, config, args,
                            degrade=repr(DegradeConfig()))
                last_save = time.time()
    pool.close()
    save_checkpoint(checkpoint, net, optimiser, step, time.time() - started, config, args,
                    degrade=repr(DegradeConfig()))
    print(f"saved {checkpoint} at step {step}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.train_restore", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--out", type=Path, default=Path("runs/restore"))
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--widths", type=int, nargs="+", default=list(RestorerConfig().widths))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-bf16", dest="bf16", action="store_false")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--estimator-only", action="store_true",
                        help="from --resume's checkpoint, train only the level estimator (fp32); writes estimator.pt")
    parser.add_argument("--tone-only", action="store_true",
                        help="train only the colour step (from estimator.pt, else last.pt); writes final.pt")
    parser.add_argument("--tone-steps", type=int, default=3000)
    parser.add_argument("--tone-repeats", type=int, default=40, help="faded copies of each training photo")
    parser.add_argument("--tone-clean-share", type=float, default=0.7, help="share of the copies left unfaded")
    args = parser.parse_args(argv)
    (train_tone if args.tone_only else train)(args)


if __name__ == "__main__":
    main(sys.argv[1:])
