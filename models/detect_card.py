"""The damage detector's model card (``MODEL_CARD_restorer-detect.md``): data with licences,
the synthesiser's parameters, the recipe, the measured evaluation and the pictures."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from .card import EVAL_END, EVAL_START, HISTORY_END, HISTORY_START, _between, _photo_table
from .damage import Damage, SynthConfig


def _synth_table() -> str:
    config = SynthConfig()
    rows = ["| setting | value |", "|---|---|"]
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name == "probability":
            value = ", ".join(f"{Damage(k).name.lower()} {v:.0%}" for k, v in value.items())
        rows.append(f"| {f.name} | {value} |")
    return "\n".join(rows)


SYNTH_TEXT = """Each training crop is a clean photo aged in the order things happen to a print
(`models/damage.py`, seeded):

1. **The photo itself (not damage):** sometimes lettering or dark twigs drawn into the picture
   (30 %), softness (Gaussian σ 0.4-1.6, 40 %), fading (blacks lifted up to 0.25, whites dropped
   up to 0.15, 50 %), toning (sepia 20 %, black and white 15 %, colour cast / yellowing 30 %),
   halftone-like texture (period 2.5-6 px, amplitude 1-5 %, 10 %).
2. **Damage (in the mask, whatever its opacity):** scratches (1-4; straight, bowed or curved;
   width 0.7-4 px log-uniform and 15 % of them 4-10 px, opacity 0.15-1 varying along the length, bright emulsion loss or
   dark dirt, sometimes blurred up to σ 0.8), branching cracks, dust (3-120 specks per 256² px,
   radius 0.5-4 px, light, dark or both), hair and lint (0.6-1.8 px), creases (a highlight and a shadow across a fold
   2-9 px wide, with cracked emulsion along the ridge), torn corners and edges (paper base,
   scanner lid or dark background, with white fibres at the tear), stains (brown translucent
   blotches with a darker rim) and foxing (brown spots 1-6 px). Drawn at 4x and reduced, so
   widths below a pixel are right. The mask is the damage's footprint (coverage > 0.3) wherever it
   changes the print by more than 3 levels, so a faint scratch over a mid-tone is damage along its
   length and a white scratch across white sky, which changes nothing, is not.
3. **The scan (not damage):** blur σ 0.3-0.9 (50 %), paper texture (±3 %, 30 %), grain or scanner
   noise σ 0.005-0.06, sometimes clumped (65 %), JPEG quality 30-95 (50 %).

15 % of the crops are aged but not damaged at all."""


def write_detect_card(path: Path, state: dict, data: Path, evaluation: str, pictures: str | None,
                      parameters: int, size_mb: float) -> None:
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    history = _between(old, HISTORY_START, HISTORY_END) or ""
    args = state.get("args", {})
    minutes = state.get("seconds", 0) / 60
    command = (f"python -m models.train_detect --data {args.get('data', 'data/photos')} --out {args.get('out', 'runs/detect')} "
               f"--minutes {args.get('minutes')} --pool {args.get('pool')} --batch {args.get('batch')} "
               f"--lr {args.get('lr')} --seed {args.get('seed')}")
    picture_text = ""
    if pictures:
        picture_text = (f"\n## Pictures\n\nIn `{pictures}/`: for four validation photos aged with a random mix of "
                        "damage (`mixed-*.jpg`) and four aged without damage (`clean-*.jpg`), the aged photo and "
                        "what was detected at the default threshold: cyan = damage found (within 1 px), yellow = "
                        "flagged but not damage, red = damage missed.\n")
    text = f"""# Restorer damage detection (`restorer-detect`)

Finds the damage on a scanned print - scratches, cracks, dust, hair and lint, creases, torn
corners and edges, stains and foxing - and gives every pixel a probability that it is damage.
The app thresholds it (0.5 by default; the sensitivity slider and `--threshold` change it) and
the mask goes to the fill. Licence of the weights: Apache-2.0.

## Network

A conv-only encoder-decoder (`models/detect_net.py`) of {parameters:,} parameters ({size_mb:.1f} MB as
ONNX, weights stored as float16 and computed in float32): the photo is folded 2x2 into channels, halved three more times (widths
{tuple(state.get('config', {}).get('widths', ()))}), two dilated convolutions at 1/16 for context,
a decoder that adds each level back, four logits per 2x2 block unfolded to full resolution.
Input `image` (1 x 3 x H x W RGB in [0, 1], H and W multiples of 16), output `damage`
(1 x 1 x H x W, probability). The app runs it on 1024 px tiles with 48 px shared margins and keeps
each tile's inner part.

## Training data

{_photo_table(data)}

## The degradation synthesiser

{SYNTH_TEXT}

{_synth_table()}

## Recipe

Binary cross-entropy (damage weighted x3) + soft Dice; AdamW, learning rate {args.get('lr')} with a
300-step warm-up and a cosine to 5 % over the run's clock; bf16 autocast, channels-last; 256 px
crops (photos at 0.5-1x), batches of {args.get('batch')}, a pool of {args.get('pool')} crops refreshed by a
synthesis process as training runs, random rotations and flips. Steps: {state.get('step', 0):,}, about
{minutes:.0f} minutes on a 2-core CPU.

    {command}
    python -m models.export_detect --checkpoint {args.get('out', 'runs/detect')}/last.pt
    python -m models.evaluate_detect --card resources/models/MODEL_CARD_restorer-detect.md --checkpoint {args.get('out', 'runs/detect')}/last.pt

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
