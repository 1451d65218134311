"""``python -m models.preview --checkpoint runs/default/checkpoints/last.pt --out preview.png``

A picture of the validation batch: per row the photo with its hole marked, the Navier-Stokes
input, the EMA generator's fill and the original - to look at, since PSNR rewards blur.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from .dataset import fixed_batch
from .export import load_generator
from .train import TrainConfig


def render(checkpoint: Path, out: Path, per_family: int = 2) -> None:
    generator, state = load_generator(checkpoint)
    config = TrainConfig.from_dict(state["config"])
    batch = fixed_batch(config.data, "val", per_family)
    with torch.no_grad():
        filled = generator(batch["image"], batch["mask"], batch["text"]).clamp(0, 1)
    rows = []
    for i in range(len(filled)):
        def hwc(t):
            return (t[i].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        marked = hwc(batch["target"]).copy()
        marked[batch["mask"][i, 0].numpy() > 0] = (255, 0, 255)
        rows.append(np.concatenate([marked, hwc(batch["image"]), hwc(filled), hwc(batch["target"])], axis=1))
    grid = np.concatenate(rows, axis=0)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"wrote {out} (columns: hole, Navier-Stokes, model, original; step {state.get('step')})")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m models.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/default/checkpoints/last.pt"))
    parser.add_argument("--out", type=Path, default=Path("runs/preview.png"))
    parser.add_argument("--per-family", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    render(args.checkpoint, args.out, args.per_family)


if __name__ == "__main__":
    main()
