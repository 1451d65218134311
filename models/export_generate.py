"""Export a trained generation model (``models.train_generate``) to ONNX and register it.

    python -m models.export_generate --checkpoint runs/generate/checkpoints/last.pt

Like ``models.export``: the EMA weights, the dynamo exporter at opset 18, H and W dynamic in
multiples of 8, the latent code at H/8 x W/8, weights stored as float16, ONNX Runtime checked
against torch at two sizes with random codes, and only then the file, its manifest entry (kind
``generate``) written into ``resources/models``. The model card is written by
``models.generate_card``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from .export import PARITY_SIZES, SIZE_MULTIPLE, save_export, update_manifest, write_checked
from .export import manifest_entry as inpaint_entry
from .network import LATENT_CHANNELS, LATENT_STRIDE, TEXT_EMBEDDING_SIZE, LatentInpaintGenerator

#: The largest side the app gives the model at once; larger crops are scaled down first.
MAX_SIDE = 768
#: float16 weights round each by up to 2^-11 relative; through the network that is a few 1e-3.
TOLERANCES = (1e-4, 1.5e-2)


def load(checkpoint: Path, use_ema: bool = True) -> tuple[LatentInpaintGenerator, dict]:
    from .train import build_models
    from .train_generate import GenerateTrainConfig

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = GenerateTrainConfig.from_dict(state["config"])
    generator, _ = build_models(config)
    generator.load_state_dict(state["ema" if use_ema and state.get("ema") else "generator"])
    return generator.eval(), state


def export_onnx(generator: LatentInpaintGenerator, path: Path, metadata: dict[str, str]) -> None:
    generator = generator.eval().float()
    h8 = torch.export.Dim("h8", min=1, max=1024)
    w8 = torch.export.Dim("w8", min=1, max=1024)
    spatial = {2: SIZE_MULTIPLE * h8, 3: SIZE_MULTIPLE * w8}
    example = (torch.rand(1, 3, 64, 96), (torch.rand(1, 1, 64, 96) > 0.5).float(), torch.zeros(1, TEXT_EMBEDDING_SIZE),
               torch.randn(1, LATENT_CHANNELS, 64 // LATENT_STRIDE, 96 // LATENT_STRIDE))
    with torch.no_grad():
        program = torch.onnx.export(
            generator, example, dynamo=True, opset_version=18, external_data=False,
            input_names=["image", "mask", "text", "latent"], output_names=["output"],
            dynamic_shapes={"image": spatial, "mask": spatial, "text": None, "latent": {2: h8, 3: w8}},
            verbose=False,
        )
    save_export(program, path, metadata)


def parity(generator: LatentInpaintGenerator, path: Path, sizes=PARITY_SIZES, seed: int = 0) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for h, w in sizes:
        image = rng.random((1, 3, h, w), dtype=np.float32)
        mask = (rng.random((1, 1, h, w)) > 0.5).astype(np.float32)
        text = rng.normal(size=(1, TEXT_EMBEDDING_SIZE)).astype(np.float32)
        text /= np.linalg.norm(text)
        latent = rng.standard_normal((1, LATENT_CHANNELS, h // LATENT_STRIDE, w // LATENT_STRIDE)).astype(np.float32)
        feeds = {"image": image, "mask": mask, "text": text, "latent": latent}
        (ours,) = session.run(["output"], feeds)
        with torch.no_grad():
            reference = generator(*(torch.from_numpy(feeds[k]) for k in ("image", "mask", "text", "latent"))).numpy()
        worst = max(worst, float(np.abs(ours - reference).max()))
    return worst


def latent_effect(generator: LatentInpaintGenerator, size: int = 128) -> float:
    """Mean absolute difference inside a hole (0-255 levels) between two random codes: a
    model that ignores its code shows 0."""
    rng = np.random.default_rng(2)
    image = torch.from_numpy(rng.random((1, 3, size, size), dtype=np.float32))
    mask = torch.zeros(1, 1, size, size)
    mask[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    text = torch.zeros(1, TEXT_EMBEDDING_SIZE)
    codes = [torch.from_numpy(rng.standard_normal((1, LATENT_CHANNELS, size // 8, size // 8)).astype(np.float32))
             for _ in range(2)]
    with torch.no_grad():
        a, b = (generator(image, mask, text, z) for z in codes)
    return float(255 * ((a - b).abs() * mask).sum() / (3 * mask.sum()))


def manifest_entry(model_id: str, name: str, version: str, file: Path, licence: str, card: str,
                   description: str, default: bool = True) -> dict:
    """The inpainter's manifest entry (``models.export``) as kind ``generate``, with the latent input."""
    entry = inpaint_entry(model_id, name, version, file, licence, card, description, default)
    entry.update(kind="generate", max_side=MAX_SIDE)
    entry["inputs"].append({"name": "latent", "dtype": "float32", "layout": "NCHW", "channels": LATENT_CHANNELS})
    return entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.export_generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/generate/checkpoints/last.pt"))
    parser.add_argument("--out", type=Path, default=Path("resources/models"), help="models folder with manifest.json")
    parser.add_argument("--id", default="restorer-generate")
    parser.add_argument("--name", default="Restorer generative fill")
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--licence", default="Apache-2.0")
    parser.add_argument("--full-precision", action="store_true", help="keep float32 weights (twice the size)")
    args = parser.parse_args(argv)

    generator, state = load(args.checkpoint)
    file = args.out / f"{args.id}.onnx"
    metadata = {
        "restorer.kind": "generate", "restorer.id": args.id, "restorer.version": args.version,
        "restorer.prefill": "ns", "restorer.size_multiple": SIZE_MULTIPLE, "restorer.max_side": MAX_SIDE,
        "restorer.text_embedding_size": TEXT_EMBEDDING_SIZE, "restorer.inputs":
            "image float32 [1,3,H,W] in [0,1] pre-filled by cv2 INPAINT_NS r=3; mask float32 [1,1,H,W] 1=hole; "
            "text float32 [1,384] MiniLM embedding, zeros = no description; "
            f"latent float32 [1,{LATENT_CHANNELS},H/8,W/8] standard normal, drawn from the seed",
        "restorer.outputs": "output float32 [1,3,H,W] full RGB; clip to [0,1], paste hole pixels only",
        "restorer.training_steps": state.get("step", 0), "restorer.licence": args.licence,
    }
    worst = write_checked(file, lambda path: export_onnx(generator, path, metadata),
                          lambda path: parity(generator, path), args.full_precision, TOLERANCES)
    effect = latent_effect(generator)
    print(f"Latent code: two seeds differ by {effect:.2f} levels (0-255) inside a hole on average"
          + ("  WARNING: this checkpoint ignores its latent code" if effect < 0.5 else ""))
    card = f"MODEL_CARD_{args.id}.md"
    entry = manifest_entry(args.id, args.name, args.version, file, args.licence, card,
                           "Generative fill for torn corners, missing edges, large losses and extended canvas; "
                           "a seed picks one of several plausible fills (variations).")
    update_manifest(args.out, entry)
    print(f"wrote {file} ({entry['size'] / 1e6:.1f} MB, sha256 {entry['sha256'][:12]}..., parity {worst:.1e}), "
          "manifest entry")


if __name__ == "__main__":
    main(sys.argv[1:])
