"""The restoration model's card (``MODEL_CARD_restorer-restore.md``): data with licences, the
degradations and their units, the recipe, the measured evaluation and the pictures."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from .card import EVAL_END, EVAL_START, HISTORY_END, HISTORY_START, _between, _photo_table
from .degrade import DegradeConfig

DEGRADE_TEXT = """Each training crop is a clean photo, sometimes faded or colour-cast (in the input *and* the
target: the app corrects fading with a separate global curve, so the network must keep it),
then degraded in a random order (`models/degrade.py`, seeded):

* **noise** (65 %): Gaussian (colour or luma), signal-dependent (shot noise), or clumped film
  grain; sigma 1-30 levels. Level = sigma / 30.
* **JPEG** (50 %): quality 10-90, a quarter of them compressed twice at two qualities.
  Level = (100 - lowest quality) / 90.
* **blur** (50 %): Gaussian sigma 0.4-3, a defocus disc of radius 1-5 px, a motion streak of
  2-9 px, or down-and-up scaling by 1.5-4x. Level = equivalent Gaussian sigma / 3.

12 % of the crops are left clean (all levels 0). The network is given the true levels (jittered
by ±0.03, so a slightly wrong estimate still gives a sensible result) and its estimator learns
them from the degraded crop alone."""


def _config_table() -> str:
    config = DegradeConfig()
    rows = ["| setting | value |", "|---|---|"]
    rows += [f"| {f.name} | {getattr(config, f.name)} |" for f in fields(config)]
    return "\n".join(rows)


def write_restore_card(path: Path, state: dict, data: Path, evaluation: str, pictures: str | None,
                       parameters: int, size_mb: float) -> None:
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    history = _between(old, HISTORY_START, HISTORY_END) or ""
    args = state.get("args", {})
    minutes = state.get("seconds", 0) / 60
    widths = tuple(state.get("config", {}).get("widths", ()))
    command = (f"python -m models.train_restore --data {args.get('data', 'data/photos')} --out "
               f"{args.get('out', 'runs/restore')} --minutes {args.get('minutes')} --pool {args.get('pool')} "
               f"--batch {args.get('batch')} --crop {args.get('crop')} --lr {args.get('lr')} --seed {args.get('seed')}")
    picture_text = ""
    if pictures:
        picture_text = (f"\n## Pictures\n\nIn `{pictures}/`: for one validation photo per set, the degraded "
                        "photo, Restorer's result with every setting on auto, and the truth, side by side; and the "
                        "app's bundled damaged portrait before and after (`sample-damaged_portrait.jpg`).\n")
    text = f"""# Restorer photo restoration (`restorer-restore`)

Removes noise and film grain, JPEG blocks and softness from a whole photo by the strengths it is
given (the user's, or its own estimate on `auto`). Fading and colour casts are corrected by the
app's separate levels curves, not by this network. Licence of the weights: Apache-2.0.

## Network

A conv-only encoder-decoder (`models/restore_net.py`) of {parameters:,} parameters ({size_mb:.1f} MB as
ONNX, weights stored as float16 and computed in float32): the photo is folded 2x2 into channels and joined by the three strength maps,
halved three more times (widths {widths}) with residual blocks, a decoder that adds each level
back, and a correction added to the photo (so strength 0 has an easy answer: add nothing).
A separate estimator (three strided convolutions and a global mean) sees the photo only and
gives the three levels. Inputs `image` (1 x 3 x H x W RGB in [0, 1]) and `strength`
(1 x 3 x H x W: denoise, deblock, sharpen in [0, 1]); outputs `output` and `levels`
(1 x 3 x 1 x 1); H and W multiples of 16.

## Training data

{_photo_table(data)}

## Degradations

{DEGRADE_TEXT}

{_config_table()}

## Recipe

Charbonnier L1 on the image + 0.1 x L1 on the estimated levels; AdamW, learning rate
{args.get('lr')} with a 300-step warm-up and a cosine to 5 % over the run's clock; bf16 autocast,
channels-last; {args.get('crop')} px crops (photos at 0.5-1x), batches of {args.get('batch')}, a pool of
{args.get('pool')} crops refreshed by a synthesis process, random rotations and flips. Steps:
{state.get('step', 0):,}, about {minutes:.0f} minutes on a 2-core CPU.

    {command}
    python -m models.export_restore --checkpoint {args.get('out', 'runs/restore')}/last.pt
    python -m models.evaluate_restore --card resources/models/MODEL_CARD_restorer-restore.md --checkpoint {args.get('out', 'runs/restore')}/last.pt

## Evaluation

{EVAL_START}
{evaluation}
{EVAL_END}
{picture_text}
## History

{HISTORY_START}
{history}
{HISTORY_END}
"""
    path.write_text(text, encoding="utf-8")
