"""Pictures of fills to look at, since PSNR rewards blur.

``python -m models.preview --checkpoint runs/default/checkpoints/last.pt --out preview.png``
shows the validation batch of a checkpoint: per row the photo with its hole marked, the
Navier-Stokes input, the EMA generator's fill and the original.

``python -m models.preview --engine --out-dir resources/models/card-images`` shows the exported
model as the app runs it: for each mask family one JPEG whose rows are validation photos (the
evaluation's first seeded mask) and whose columns are damaged, Telea, Navier-Stokes, the model,
the original; plus ``steering.jpg``: one hole filled with no description, "bright red" and
"dark blue".
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


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (9 * len(text) + 10, 24), (0, 0, 0), -1)
    cv2.putText(tile, text, (5, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def render_engine(models_dir: Path, model_id: str, data: Path, out_dir: Path, long_side: int = 320,
                  photos: int = 3) -> list[Path]:
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.runtime import SessionFactory

    from .evaluate import STEER_PROMPTS, validation_photos
    from .masks import MaskFamily, generate_mask

    inpainter = Inpainter(ModelRegistry([models_dir], SessionFactory(cpu_threads=2)))
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = validation_photos(data, long_side)[:photos]
    written = []
    steering_rows = []
    for f_index, family in enumerate(MaskFamily):
        rows = []
        for p_index, (name, rgb) in enumerate(chosen):
            # The evaluation's first mask of this photo and family (same seed).
            mask = generate_mask(family, rgb.shape[0], rgb.shape[1], np.random.default_rng([0, p_index, f_index, 0]))
            image = RasterImage(rgb, ImageInfo("PNG", 8))
            damaged = rgb.copy()
            damaged[mask > 0] = (255, 0, 255)
            tiles = [_label(damaged, name[:28])]
            for method, label in (("telea", "Telea"), ("ns", "Navier-Stokes"), (model_id, "model")):
                tiles.append(_label(inpainter.inpaint(image, mask, InpaintRequest(method=method)).pixels, label))
            tiles.append(_label(rgb, "original"))
            rows.append(np.concatenate(tiles, axis=1))
            if family is MaskFamily.BLOBS:
                fills = [_label(damaged, "hole")]
                for prompt in ("", *STEER_PROMPTS):
                    result = inpainter.inpaint(image, mask, InpaintRequest(method=model_id, prompt=prompt)).pixels
                    fills.append(_label(result, f'"{prompt}"' if prompt else "no description"))
                steering_rows.append(np.concatenate(fills, axis=1))
        written.append(_write_grid(rows, out_dir / f"{family.value}.jpg"))
    written.append(_write_grid(steering_rows, out_dir / "steering.jpg"))
    return written


def _write_grid(rows: list[np.ndarray], path: Path) -> Path:
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows]
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(padded, axis=0), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f"wrote {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m models.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/default/checkpoints/last.pt"))
    parser.add_argument("--out", type=Path, default=Path("runs/preview.png"))
    parser.add_argument("--per-family", type=int, default=2)
    parser.add_argument("--engine", action="store_true", help="pictures of the exported model run by the app")
    parser.add_argument("--models-dir", type=Path, default=Path("resources/models"))
    parser.add_argument("--model", default="restorer-inpaint")
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--out-dir", type=Path, default=Path("resources/models/card-images"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.engine:
        render_engine(args.models_dir, args.model, args.data, args.out_dir)
    else:
        render(args.checkpoint, args.out, args.per_family)


if __name__ == "__main__":
    main()
