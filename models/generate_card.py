"""The generation model's card (``MODEL_CARD_restorer-generate.md``): network, data with
licences, masks, recipe with its two phases, where ``auto`` uses it, the measured evaluation
and the pictures.

    python -m models.generate_card --checkpoint runs/generate/checkpoints/last.pt \
        --evaluation runs/generate-eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .card import EVAL_END, EVAL_START, HISTORY_END, HISTORY_START, _between, _photo_table
from .gen_masks import COVERAGE, GenerationFamily, generation_mask

CARD = Path("resources/models/MODEL_CARD_restorer-generate.md")
LIMITS_START, LIMITS_END = "<!-- LIMITS:START -->", "<!-- LIMITS:END -->"
PICTURES = "card-images/restorer-generate"


def _coverage() -> str:
    rng = np.random.default_rng(0)
    rows = ["| family | what | coverage range | mean of 300 at 256 px |", "|---|---|---|---|"]
    what = {GenerationFamily.BORDER: "torn corners (a ragged line cutting a corner off) and strips torn off "
                                     "along one edge",
            GenerationFamily.LARGE: "one large loss inside the photo",
            GenerationFamily.EXTEND: "extended canvas: straight bands on one, two or four sides"}
    for family in GenerationFamily:
        cover = np.mean([np.count_nonzero(generation_mask(family, 256, 256, rng)) / 256 ** 2 for _ in range(300)])
        low, high = COVERAGE[family]
        rows.append(f"| {family.value} | {what[family]} | {100 * low:.0f}-{100 * high:.0f} % | {100 * cover:.1f} % |")
    return "\n".join(rows)


def write_card(path: Path, state: dict, evaluation: str, data: Path, parameters: int, size_mb: float,
               limits: str | None) -> None:
    """``limits``: what the model does badly (Markdown); None keeps the card's present text."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    history = _between(old, HISTORY_START, HISTORY_END) or ""
    config = state.get("config", {})
    loss, optim, gen = config.get("loss", {}), config.get("optim", {}), config.get("generator", {})
    families = config.get("families", {})
    minutes = state.get("elapsed_seconds", 0.0) / 60
    text = f"""# Restorer generative fill (`restorer-generate`)

Fills torn corners, strips torn off along an edge, large losses and extended canvas, where
little or nothing around the hole says what was there and more than one fill is right. A seed
picks one of the plausible fills: `restorer inpaint --variations N`, `restorer extend`, and the
window's *Variations* and *Extend Canvas*. Licence of the weights: Apache-2.0.

## Network

The inpainting network (`restorer-inpaint`, `models/network.py`) with a latent code:
`LatentInpaintGenerator`, {parameters:,} parameters ({size_mb:.1f} MB as ONNX, weights stored as
float16 and computed in float32), widths {tuple(gen.get('widths', ()))}, dilated FiLM blocks
{tuple(gen.get('dilations', ()))} at 1/8 resolution. The code is standard normal noise, 8
channels at 1/8 of the input's size, drawn by the app from the seed for each filled region;
it enters the 1/8 bottleneck twice (before the dilated blocks and halfway through them)
through 3x3 convolutions, only in and near the hole. Like the inpainter it is given the
Navier-Stokes pre-fill and predicts a correction inside the hole, and a description by FiLM
(all-MiniLM-L6-v2 embedding).

Inputs `image` (1 x 3 x H x W RGB in [0, 1], pre-filled), `mask` (1 x 1 x H x W, 1 = hole),
`text` (1 x 384, zeros = no description) and `latent` (1 x 8 x H/8 x W/8); output `output`
(1 x 3 x H x W). H and W multiples of 8; the app gives it crops of at most 768 px (larger ones
are shrunk and their fine detail added back) and runs it once per hole: averaging it with its
mirror image or a half-size run, as the inpainter's fills do, would average the variations away.

## Where `auto` uses it

A fill's first variation (seed 0, the default) is always the inpainting model's: measured
below, this model's fill is 0.1-0.6 dB further from the truth than the inpainter's (which
averages two runs and a half-size one) at about the same texture distance, so it never makes
the most likely fill. Every other seed gives it the holes where more than one fill is right:
those that reach the photo's edge at least 24 px deep (`GENERATE_EDGE_DEPTH`; depth counted
from the photo that is left, not from the photo's edge, so a scratch running off the edge stays
thin) or are at least 48 px deep anywhere (`GENERATE_DEPTH`, a loss about 96 px across). The
table by depth below shows no depth where this model's single fill beats the inpainter's, so
the line is where variations are worth having rather than where it fills better: below it a
hole is narrow enough that its surroundings decide it. An extended canvas with a seed other
than 0 always goes to it.

## Training data

{_photo_table(data)}

## Masks

`models/gen_masks.py`, seeded; sizes relative to the crop's shorter side.

{_coverage()}

Training mix: {', '.join(f'{k} {100 * v:.0f} %' for k, v in families.items())} (`blobs` are the inpainter's
interior holes, so the model stays sensible on them).

## Recipe

Warm-started from `restorer-inpaint` 1.5 (every weight but the two latent convolutions).
Every photo in a batch of {config.get('batch')} ({config.get('data', {}).get('crop')} px crops) is filled
{loss.get('samples')} times with different codes. Only the better of the fills is scored against the truth
(hole L1, "best of many": a fill that differs from the truth is not punished when another code
found it, so the codes spread over the plausible fills instead of averaging them), plus
{loss.get('mean_l1')} x the mean L1 of all fills (so every code stays sensible); a hinge asks two codes' fills
to differ by at least {loss.get('diversity_target')} (in 0-1, about {255 * float(loss.get('diversity_target', 0)):.0f} levels) on
average inside the hole (weight {loss.get('diversity')}); the PatchGAN ({loss.get('adversarial_kind')}, weight
{loss.get('adversarial')}) judges every fill, and feature matching (weight {loss.get('feature_matching')}) compares the best
fill's discriminator features with the photo's. Captions on half the crops (a fifth of those
recoloured inside the hole first, so the caption is needed). AdamW, learning rate
{optim.get('lr_generator')} (discriminator {optim.get('lr_discriminator')}), warm-up {optim.get('warmup')} steps, cosine decay; bf16 autocast,
channels-last, EMA 0.999. {state.get('step', 0):,} steps, about {minutes:.0f} minutes on a 2-core CPU.

The first 1,252 steps ran with a stronger hinge (weight 0.5, at 15 levels) and mean L1 0.05;
that had the codes paint blotches of noise into large fills, the cheapest way for two fills
to differ, so training resumed with the values above.

    python -m models.data prepare --out data/photos
    python -m models.train_generate --config models/configs/generate.yaml --out runs/generate --threads 2
    python -m models.export_generate --checkpoint runs/generate/checkpoints/last.pt
    python -m models.evaluate_generate --json runs/generate-eval.json
    python -m models.evaluate_generate --pictures resources/models/{PICTURES}
    python -m models.generate_card --checkpoint runs/generate/checkpoints/last.pt --evaluation runs/generate-eval.json

## Evaluation

{EVAL_START}
{evaluation}
{EVAL_END}

## Pictures

In `{PICTURES}/`, at 100 % (photos at 1024 px long side): for a torn corner on a mountain
meadow (`corner.jpg`), a strip torn off a sunset sky (`edge.jpg`) and a large loss in dry grass
beside a meerkat (`foliage.jpg`): the hole, the default fill (seed 0: the inpainter's), the
inpainter's fill and the truth, and below them `auto`'s fills with seeds 0-3 (1-3 are this
model's); `extended-canvas.jpg`: a landscape extended by a third of its width to the right,
seeds 0-3; `variation-strip.jpg`: the window with four variations of a torn corner in the
review box, the second under review.

## Limits

{LIMITS_START}
{limits or _between(old, LIMITS_START, LIMITS_END) or "(not written yet)"}
{LIMITS_END}

## History

{HISTORY_START}
{history}
{HISTORY_END}
"""
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    from .evaluate_generate import markdown
    from .export_generate import load
    from .network import count_parameters

    parser = argparse.ArgumentParser(prog="python -m models.generate_card", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/generate/checkpoints/last.pt"))
    parser.add_argument("--evaluation", type=Path, required=True, help="JSON from models.evaluate_generate --json")
    parser.add_argument("--limits", type=Path, help="a Markdown file with what the model does badly "
                                                     "(default: keep the card's)")
    parser.add_argument("--data", type=Path, default=Path("data/photos"))
    parser.add_argument("--card", type=Path, default=CARD)
    args = parser.parse_args(argv)
    generator, state = load(args.checkpoint)
    onnx = args.card.parent / "restorer-generate.onnx"
    size = onnx.stat().st_size / 1e6 if onnx.is_file() else 0.0
    limits = args.limits.read_text(encoding="utf-8").strip() if args.limits else None
    evaluation = markdown(json.loads(args.evaluation.read_text(encoding="utf-8")))
    write_card(args.card, state, evaluation, args.data, count_parameters(generator), size, limits)
    print(f"wrote {args.card}")


if __name__ == "__main__":
    main(sys.argv[1:])
