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


def _stages_text(estimator: dict | None, tone: dict | None, out: str) -> str:
    lines = []
    if estimator is not None:
        e_args = estimator.get("args", {})
        lines.append(f"Then the level estimator alone (the restoring network frozen), in float32: "
                     f"{estimator.get('step', 0):,} steps, about {estimator.get('seconds', 0) / 60:.0f} minutes, "
                     f"learning rate {e_args.get('lr')}:\n\n    python -m models.train_restore --out {out} --resume "
                     f"--estimator-only --minutes {e_args.get('minutes')} --lr {e_args.get('lr')}")
    if tone is not None:
        lines.append(f"Then the colour step alone: {tone.get('samples', 0):,} thumbnails (192 px) of the training "
                     f"photos, {100 * tone.get('clean_share', 0):.0f} % left as they are and the rest faded and "
                     f"tinted as above, {tone.get('steps', 0):,} Adam steps on the squared error of the corrected "
                     f"pixels, {tone.get('seconds', 0):.0f} s:\n\n    python -m models.train_restore --out {out} "
                     f"--tone-only --tone-clean-share {tone.get('clean_share')}")
    return "\n\n".join(lines)


def write_restore_card(path: Path, state: dict, data: Path, evaluation: str, pictures: str | None,
                       parameters: int, size_mb: float, estimator: dict | None = None,
                       tone: dict | None = None) -> None:
    """``state`` is the main training checkpoint; ``estimator`` the estimator stage's
    checkpoint and ``tone`` the colour stage's record, where those stages ran."""
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
                        "photo, Restorer's result with every strength on auto and the colour step on, and the truth, "
                        "side by side; and the app's bundled damaged portrait before and after "
                        "(`sample-damaged_portrait.jpg`). Where it over-smooths: strong noise on grass and "
                        "foliage comes back waxy (the noise picture's meadow), and fine rock texture is "
                        "softened; at JPEG quality 10 the block steps in the sky and the wrong-coloured chroma blotches mostly stay (deblocking is the weakest part).\n")
    text = f"""# Restorer photo restoration (`restorer-restore`)

Removes noise and film grain, JPEG blocks and softness from a whole photo by the strengths it is
given (the user's, or its own estimate on `auto`), and corrects fading and colour casts with
one curve per channel that a small second part of the model predicts from the whole photo.
Licence of the weights: Apache-2.0.

## Network

A conv-only encoder-decoder (`models/restore_net.py`) of {parameters:,} parameters ({size_mb:.1f} MB as
ONNX, weights stored as float16 and computed in float32): the photo is folded 2x2 into channels and joined by the three strength maps,
halved three more times (widths {widths}) with residual blocks, a decoder that adds each level
back, and a correction added to the photo (so strength 0 has an easy answer: add nothing).
A separate estimator (three strided convolutions and a global mean) sees the photo only and
gives the three levels; the app runs it on six 256 px sample tiles and takes the median, and
raises the deblock level to the measured JPEG blockiness where that is higher.

The colour step (`ToneNet`, 8,838 parameters) is global: fading is the same everywhere, and a
per-pixel network sees too little of the photo to tell a faded print from a dark or misty
one. It reads 66 numbers, each channel's 0.5-99.5 % quantiles and their difference from the
mean of the channels (the tint), which the app counts from the restored photo while it writes
it, and gives a gain about mid-grey and an offset per channel, applied as a lookup table (16-bit
stays 16-bit). It was chosen over per-channel auto levels because it leaves photos that are
not faded far more alone: on the 16 validation photos at 384 px, colour step only, clean photos
came back at 40.2 dB against 34.2 dB for auto levels, while faded ones reached 28.4 dB against
28.9 dB. The share of unfaded photos in its training sets that balance (0.5: faded 30.6 dB,
clean 36.3 dB; 0.75: 28.7 and 43.5 dB). It still changes some photos that are not faded (a
dark illustration, a grey-toned portrait), which is why the app leaves it off unless asked.

Inputs `image` (1 x 3 x H x W RGB in [0, 1]), `strength` (1 x 3 x H x W: denoise, deblock,
sharpen in [0, 1]) and `tone` (1 x 66); outputs `output`, `levels` (1 x 3 x 1 x 1) and `curves`
(1 x 6 x 1 x 1, 0.5 = unchanged); H and W multiples of 16.

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

{_stages_text(estimator, tone, args.get('out', 'runs/restore'))}

Exported and measured with:

    python -m models.export_restore --checkpoint {args.get('out', 'runs/restore')}/final.pt
    python -m models.evaluate_restore --card resources/models/MODEL_CARD_restorer-restore.md --pictures resources/models/card-images/restorer-restore

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
