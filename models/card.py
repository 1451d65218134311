"""The model card written beside every exported model (``MODEL_CARD_<id>.md``).

It lists every training and validation photo with its licence, the recipe, the mask
statistics and - once ``python -m models.evaluate --card`` has run - the evaluation table
between the ``EVALUATION`` markers.
"""

from __future__ import annotations

from pathlib import Path

from .data import read_listing
from .masks import MaskFamily, coverage_stats
from .network import count_parameters

EVAL_START = "<!-- EVALUATION:START -->"
EVAL_END = "<!-- EVALUATION:END -->"
#: Hand-written notes on how this model was actually trained (resumes, changed settings);
#: kept when the card is rewritten.
HISTORY_START = "<!-- HISTORY:START -->"
HISTORY_END = "<!-- HISTORY:END -->"


def _between(text: str, start: str, end: str) -> str | None:
    if start not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def _photo_table(data: Path) -> str:
    try:
        records = read_listing(data)
    except FileNotFoundError:
        return f"(The photo listing {data}/files.csv was not available when this card was written.)"
    rows = ["| split | file | source | original path | licence | copyright |", "|---|---|---|---|---|---|"]
    for r in sorted(records, key=lambda r: (r.split != "train", r.id)):
        holder = r.copyright.replace("|", "/").replace("\n", " ")
        rows.append(f"| {r.split} | {r.file} | {r.source} {r.package_version} | `{r.original_path}` | {r.licence} | {holder} |")
    counts = {s: sum(r.split == s for r in records) for s in ("train", "val")}
    return f"{counts['train']} training and {counts['val']} validation photographs (whole photos; " \
           f"validation photos are never trained on).\n\n" + "\n".join(rows)


def _coverage_table() -> str:
    rows = ["| family | mean | 5 % | median | 95 % | max |", "|---|---|---|---|---|---|"]
    for family in MaskFamily:
        s = coverage_stats(family, 300, 256, 0)
        rows.append(f"| {family.value} | {s.mean:.1%} | {s.p05:.1%} | {s.p50:.1%} | {s.p95:.1%} | {s.maximum:.1%} |")
    return "\n".join(rows)


def _losses(config) -> str:
    loss = config.loss
    gan_on = loss.adversarial > 0 and loss.gan_start < config.steps and (
        loss.gan_stop is None or loss.gan_stop > loss.gan_start)
    terms = [f"hole-weighted L1 x{loss.l1_hole}"] if loss.l1_hole else []
    if loss.log_mse_hole:
        terms.append(f"per-sample log hole-MSE (a PSNR loss) x{loss.log_mse_hole}")
    text = " + ".join(terms) or "none"
    if not gan_on:
        return text + " only (in this configuration's final run; see the history below)."
    until = f" until step {loss.gan_stop}" if loss.gan_stop is not None else ""
    return (f"{text}; from step {loss.gan_start}{until}: {loss.adversarial_kind} adversarial x{loss.adversarial} "
            f"(PatchGAN, mask-aware, R1 gamma {loss.r1_gamma}) and discriminator feature matching "
            f"x{loss.feature_matching}.")


def write_card(path: Path, model_id: str, name: str, version: str, state: dict, data: Path, licence: str,
               evaluation: str | None = None, run_dir: str | None = None) -> None:
    from .train import TrainConfig, build_models

    config = TrainConfig.from_dict(state["config"])
    generator, _ = build_models(config)
    params = count_parameters(generator)
    hours = state.get("elapsed_seconds")
    duration = f"{hours / 3600:.1f} h" if hours else "see the run's train.log"
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    if evaluation is None:
        evaluation = _between(existing, EVAL_START, EVAL_END)
    evaluation = evaluation or "Not evaluated yet: run `python -m models.evaluate --card`."
    history = _between(existing, HISTORY_START, HISTORY_END) or "One uninterrupted run of the command above."
    g = config.generator
    from restorer_app.engine.pipeline import DESCRIBED_WIDTH as described_width

    text = f"""# {name} {version} (`{model_id}`)

Fills holes in photographs (scratches, cracks, dust, painted strokes, torn areas) for
Restorer. The app first fills the hole with OpenCV's Navier-Stokes method; this network
takes that fill and the mask (and optionally a description of what belongs in the hole)
and adds what diffusion cannot: texture, edges, shading. Runs with ONNX Runtime on CPU or CUDA.

## Inputs and outputs

- `image` float32 [1,3,H,W] in [0,1]: the photo with the hole pre-filled by
  `cv2.inpaint(rgb8, mask, 3, cv2.INPAINT_NS)`; H and W multiples of 8 (max side {1024} in the app).
- `mask` float32 [1,1,H,W], 1 = hole.
- `text` float32 [1,384]: MiniLM-L6 sentence embedding of the description; zeros = none.
- `output` float32 [1,3,H,W]: full RGB; equals `image` outside the hole. Clip to [0,1].

## Network

Conv-only U-Net (no FFT), {params:,} parameters: widths {list(g.widths)} at 1, 1/2, 1/4, 1/8
resolution, {len(g.dilations)} dilated residual blocks at 1/8 (dilations {list(g.dilations)}),
text injected by FiLM into every block (zero-initialised, so no description = learned
default). It predicts a residual added inside the hole only.

## Training

- Steps: {state.get('step', 0):,} of {config.steps:,}, batch {config.batch}, {config.data.crop}x{config.data.crop} crops,
  device {config.device}, precision {config.precision}; training time {duration}.
- Command: `python -m models.train --config models/configs/{config.name}.yaml --out {run_dir or f"runs/{config.name}"}`
- Losses: {_losses(config)} AdamW lr {config.optim.lr_generator}
  ({config.optim.schedule}, warm-up {config.optim.warmup}); EMA {config.ema_decay} (exported).
- Captions: {1 - config.data.caption_drop:.0%} of training holes carry a caption generated from the
  hole's true pixels (colour names, light/dark, smooth/textured/gradient); the rest none. In
  {config.data.recolour_prob:.0%} of the captioned holes the true content was first recoloured (new hue
  and brightness, texture kept), so that only the caption tells what colour belongs there.

### How this model was trained

{HISTORY_START}
{history}
{HISTORY_END}

### Masks (coverage of a 256x256 crop, 300 seeded masks per family)

{_coverage_table()}

### Photographs

{_photo_table(data)}

## Evaluation

{EVAL_START}
{evaluation}
{EVAL_END}

## Pictures

Validation photos filled the way the app fills them, grain matching included
(`python -m models.preview --engine`; columns: damaged, Telea, Navier-Stokes, this model, original):
[scratches](card-images/scratches.jpg), [strokes](card-images/strokes.jpg),
[blobs](card-images/blobs.jpg); and one hole per photo filled with no description,
"bright red" and "dark blue": [steering](card-images/steering.jpg).

## Limitations

Trained on a few dozen photographs on a small compute budget: it knows skies, foliage,
water, stone, wood and skin tones in broad strokes, not faces or text. Large holes
(over ~30 % of the region) come out soft; the app's grain matching (on by default, the
*Grain* box) adds fine texture from around the hole, which makes them look less flat but does
not bring back lost structure. Descriptions steer the colour and brightness of a hole (they
were taught with recoloured holes), not its content: "brick wall" will not draw bricks. The
app gives descriptions only to areas wider than about {described_width} px (a torn corner, not a
brush stroke: on 24-48 px strokes a description that did not fit made coloured stripes),
handing over from the fill made without the description over the first 16 px in from the
edge: a true description still lowers hole-PSNR a little on blobs; a hard switch left a seam.
On toned (sepia) scans the network's fill can come out slightly cooler than the photo (it learned from colour
photos); the app gives fills on monochrome and toned crops the photo's own tone
(`engine/blend.py: match_tone`). Grain matching imitates the spectrum and colours of the
calm fine detail around the hole (busy blocks, such as edges and dust specks nobody masked, are
left out), in all directions alike: an even, directional fine pattern (fabric, engraving lines)
comes out as undirected grain, and JPEG blocking and ringing count as grain.

Licence of the weights: {licence}. The training photographs keep their own licences (above).
"""
    path.write_text(text, encoding="utf-8")


def replace_evaluation(path: Path, evaluation: str) -> None:
    """Swap the text between the EVALUATION markers of an existing card."""
    text = path.read_text(encoding="utf-8")
    if EVAL_START not in text:
        raise ValueError(f"{path} has no evaluation markers")
    head, rest = text.split(EVAL_START, 1)
    tail = rest.split(EVAL_END, 1)[1]
    path.write_text(f"{head}{EVAL_START}\n{evaluation.strip()}\n{EVAL_END}{tail}", encoding="utf-8")
