"""Train the damage detector on photos aged by :mod:`models.damage`.

``python -m models.train_detect --data data/photos --out runs/detect --minutes 60``

Training crops are synthesised by a separate process while the network trains and kept in a
refreshed pool (:class:`~models.crop_pool.CropPool`), so every step sees a mix of old and fresh
damage. The loss is binary cross-entropy weighted towards damage plus a soft Dice
term: damage is 1-3 % of the pixels, and without either term a detector learns to say "clean".
The learning rate follows the clock (warm-up, then cosine to 5 % at ``--minutes``), so a run of
any length ends annealed. Checkpoints are written every few minutes and on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .crop_pool import CropPool, clock_lr, save_checkpoint
from .damage import SynthConfig, synthesize
from .data import read_listing
from .detect_net import DamageDetector, DetectorConfig, count_parameters


def load_split(data: Path, split: str) -> list[np.ndarray]:
    photos = []
    for record in read_listing(data, split):
        bgr = cv2.imread(str(data / record.file), cv2.IMREAD_COLOR)
        if bgr is not None:
            photos.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return photos


def random_crop(photo: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A crop at a random scale (0.5-1x of the prepared photo; smaller photos are enlarged)."""
    h, w = photo.shape[:2]
    scale = rng.uniform(0.5, 1.0) * max(1.0, size / min(h, w))
    if abs(scale - 1.0) > 0.02:
        photo = cv2.resize(photo, (max(size, round(w * scale)), max(size, round(h * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    h, w = photo.shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return photo[y:y + size, x:x + size]


def sample(photos: list[np.ndarray], size: int, rng: np.random.Generator, config: SynthConfig):
    aged = synthesize(random_crop(photos[int(rng.integers(len(photos)))], size, rng), rng, config)
    return aged.image, aged.types


class AgedCrops:
    """The pool's factory: (aged photo, damage types) crops of the training photos."""

    def __init__(self, data: Path, size: int) -> None:
        self.data, self.size = data, size

    def __call__(self):
        photos = load_split(self.data, "train")
        config = SynthConfig()
        return lambda rng: sample(photos, self.size, rng, config)


def detection_loss(logits: torch.Tensor, target: torch.Tensor, pos_weight: float = 3.0) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(pos_weight))
    p = torch.sigmoid(logits)
    dice = 1.0 - (2.0 * (p * target).sum() + 1.0) / (p.sum() + target.sum() + 1.0)
    return bce + dice


def tolerant_f1(pred: np.ndarray, truth: np.ndarray, tolerance: int = 1) -> tuple[float, float, float]:
    """Pixel precision, recall, F1 where a hit within ``tolerance`` px counts."""
    kernel = np.ones((2 * tolerance + 1, 2 * tolerance + 1), np.uint8)
    near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    near_pred = cv2.dilate(pred.astype(np.uint8), kernel) > 0
    flagged, damaged = int(pred.sum()), int(truth.sum())
    precision = float((pred & near_truth).sum()) / flagged if flagged else 1.0
    recall = float((truth & near_pred).sum()) / damaged if damaged else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def augment(images: np.ndarray, types: np.ndarray, rng: np.random.Generator):
    k = int(rng.integers(0, 4))
    images, types = np.rot90(images, k, axes=(1, 2)), np.rot90(types, k, axes=(1, 2))
    if rng.random() < 0.5:
        images, types = images[:, :, ::-1], types[:, :, ::-1]
    return np.ascontiguousarray(images), np.ascontiguousarray(types)


def to_tensors(images: np.ndarray, types: np.ndarray):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy((types > 0).astype(np.float32))[:, None]
    return x, y


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = DetectorConfig(widths=tuple(args.widths))
    model = DamageDetector(config).to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step, spent = 0, 0.0
    checkpoint = out / "last.pt"
    if args.resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, spent = state["step"], state["seconds"]
    print(f"detector: {count_parameters(model):,} parameters, widths {config.widths}", flush=True)

    rng = np.random.default_rng(args.seed)
    pool = CropPool(AgedCrops(Path(args.data), args.crop), args.pool, args.seed, args.producers)
    print(f"pool of {args.pool} crops ready; training for {args.minutes} min", flush=True)

    stopping = {"now": False}

    def request_stop(_signum, _frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    budget = args.minutes * 60.0
    started = time.time() - spent
    last_save = time.time()
    log = open(out / "log.jsonl", "a")
    running = 0.0
    model.train()
    while not stopping["now"]:
        elapsed = time.time() - started
        if elapsed >= budget:
            break
        pool.refresh()
        x, y = to_tensors(*augment(*pool.batch(args.batch), rng))
        for group in optimiser.param_groups:
            group["lr"] = clock_lr(args.lr, step, elapsed / budget)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(x)
        loss = detection_loss(logits.float(), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        step += 1
        value = loss.item()
        running = 0.98 * running + 0.02 * value if step > 1 else value
        if step % 50 == 0:
            record = {"step": step, "minutes": round(elapsed / 60, 2), "loss": round(running, 4),
                      "lr": optimiser.param_groups[0]["lr"]}
            log.write(json.dumps(record) + "\n")
            log.flush()
            print(record, flush=True)
        if time.time() - last_save > 300:
            save_checkpoint(checkpoint, model, optimiser, step, time.time() - started, config, args,
                            synth=repr(SynthConfig()))
            last_save = time.time()
    pool.close()
    save_checkpoint(checkpoint, model, optimiser, step, time.time() - started, config, args,
                    synth=repr(SynthConfig()))
    print(f"saved {checkpoint} at step {step}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.train_detect", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--out", type=Path, default=Path("runs/detect"))
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--widths", type=int, nargs="+", default=list(DetectorConfig().widths))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-bf16", dest="bf16", action="store_false")
    parser.add_argument("--resume", action="store_true")
    train(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
