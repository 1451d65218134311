"""Export a trained generator to ONNX for Restorer and register it.

``python -m models.export --checkpoint runs/default/checkpoints/last.pt`` takes the EMA
weights, exports with the dynamo exporter at opset 18 (20+ breaks ONNX Runtime here) with
height and width dynamic in multiples of 8, stores the key facts in ONNX ``metadata_props``,
checks ONNX Runtime against torch at two sizes (max abs diff <= 1e-4) and only then writes
the model, its card and its manifest entry (with sha256) into ``resources/models``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from .network import TEXT_EMBEDDING_SIZE, InpaintGenerator

SIZE_MULTIPLE = 8
MAX_SIDE = 1024
PARITY_SIZES = ((64, 96), (136, 80))
PARITY_TOLERANCE = 1e-4


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def update_manifest(folder: Path, entry: dict) -> None:
    """Insert or replace ``entry`` (by id) in ``folder/manifest.json`` (format 1). A new
    default model takes the default flag from other models of its kind."""
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"format": 1, "models": []}
    if data.get("format") != 1:
        raise ValueError(f"{path} is not a format-1 Restorer manifest")
    models = [m for m in data.get("models", []) if m.get("id") != entry["id"]]
    if entry.get("default"):
        for other in models:
            if other.get("kind") == entry["kind"]:
                other["default"] = False
    models.append(entry)
    data["models"] = sorted(models, key=lambda m: (m.get("kind", ""), m["id"]))
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_generator(checkpoint: Path, use_ema: bool = True) -> tuple[InpaintGenerator, dict]:
    """The (EMA) generator of a training checkpoint, in eval mode, plus the checkpoint dict."""
    from .train import TrainConfig, build_models

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = TrainConfig.from_dict(state["config"])
    generator, _ = build_models(config)
    generator.load_state_dict(state["ema" if use_ema and state.get("ema") else "generator"])
    return generator.eval(), state


def export_onnx(generator: InpaintGenerator, path: Path, metadata: dict[str, str]) -> None:
    """Dynamo export, opset 18, H and W dynamic as 8 x k (so the three stride-2 stages and
    the skip connections line up for every allowed size), metadata written into the file."""
    generator = generator.eval().float()
    h8 = torch.export.Dim("h8", min=1, max=1024)
    w8 = torch.export.Dim("w8", min=1, max=1024)
    spatial = {2: SIZE_MULTIPLE * h8, 3: SIZE_MULTIPLE * w8}
    example = (torch.rand(1, 3, 64, 96), (torch.rand(1, 1, 64, 96) > 0.5).float(), torch.zeros(1, TEXT_EMBEDDING_SIZE))
    with torch.no_grad():
        program = torch.onnx.export(
            generator, example, dynamo=True, opset_version=18, external_data=False,
            input_names=["image", "mask", "text"], output_names=["output"],
            dynamic_shapes={"image": spatial, "mask": spatial, "text": None}, verbose=False,
        )
    save_export(program, path, metadata)


def save_export(program, path: Path, metadata: dict[str, str]) -> None:
    """Write a dynamo export to ``path`` with ``metadata`` in its ``metadata_props``, checked."""
    import onnx

    program.save(str(path))
    model = onnx.load(str(path))
    # The exporter's own notes on the graph include its shape constraints printed from a
    # Python set, whose order changes with the hash seed: the same checkpoint exported twice
    # gave different bytes (and a different sha256 in the manifest and in users' sidecars).
    # Nothing reads them; the per-node notes are deterministic and kept.
    del model.graph.metadata_props[:]
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=str(value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_checked(file: Path, export, parity, full_precision: bool, tolerances: tuple[float, float]) -> float:
    """Export into a temporary file (``export(path)``), store large weights as float16 unless
    ``full_precision``, and move it to ``file`` only if ``parity(path)`` (the largest difference
    from torch) is within the tolerance (float32, float16); returns that difference."""
    from .half_weights import halve_weights

    tolerance = tolerances[0] if full_precision else tolerances[1]
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / file.name
        export(candidate)
        if not full_precision:
            halve_weights(candidate)
        worst = parity(candidate)
        print(f"ONNX Runtime vs torch: max abs diff {worst:.2e} (limit {tolerance:.0e})")
        if worst > tolerance:
            raise SystemExit(f"Parity check failed ({worst:.2e} > {tolerance}); nothing was written.")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(candidate.read_bytes())
    return worst


def parity(generator: InpaintGenerator, path: Path, sizes=PARITY_SIZES, seed: int = 0) -> float:
    """Largest |ONNX Runtime - torch| over random inputs at ``sizes``; each size also gets a
    non-zero text embedding so the FiLM path is compared too."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for h, w in sizes:
        image = rng.random((1, 3, h, w), dtype=np.float32)
        mask = (rng.random((1, 1, h, w)) > 0.7).astype(np.float32)
        text = rng.normal(size=(1, TEXT_EMBEDDING_SIZE)).astype(np.float32)
        text /= np.linalg.norm(text)
        (ours,) = session.run(["output"], {"image": image, "mask": mask, "text": text})
        with torch.no_grad():
            reference = generator(torch.from_numpy(image), torch.from_numpy(mask), torch.from_numpy(text)).numpy()
        worst = max(worst, float(np.abs(ours - reference).max()))
    return worst


def text_effect(generator: InpaintGenerator, size: int = 96) -> float:
    """Mean absolute change inside a hole (0-255 levels) between no text and a random unit
    embedding: a checkpoint whose text path died shows 0."""
    rng = np.random.default_rng(1)
    image = torch.from_numpy(rng.random((1, 3, size, size), dtype=np.float32))
    mask = torch.zeros(1, 1, size, size)
    mask[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    text = torch.from_numpy(rng.normal(size=(1, TEXT_EMBEDDING_SIZE)).astype(np.float32))
    text = text / text.norm()
    with torch.no_grad():
        change = (generator(image, mask, text) - generator(image, mask, torch.zeros_like(text))).abs()
    return float(255 * (change * mask).sum() / (3 * mask.sum()))


def manifest_entry(model_id: str, name: str, version: str, file: Path, licence: str, card: str,
                   description: str, default: bool = True) -> dict:
    channels = lambda n: {"dtype": "float32", "layout": "NCHW", "channels": n, "range": [0, 1]}  # noqa: E731
    return {
        "id": model_id, "name": name, "version": version, "kind": "inpaint", "file": file.name,
        "sha256": sha256_file(file), "size": file.stat().st_size, "licence": licence, "prefill": "ns",
        "size_multiple": SIZE_MULTIPLE, "max_side": MAX_SIDE, "text_embedding_size": TEXT_EMBEDDING_SIZE,
        "default": default, "description": description, "card": card,
        "inputs": [{"name": "image", **channels(3)}, {"name": "mask", **channels(1)},
                   {"name": "text", "dtype": "float32", "layout": "NC", "channels": TEXT_EMBEDDING_SIZE}],
        "outputs": [{"name": "output", **channels(3)}],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/default/checkpoints/last.pt"))
    parser.add_argument("--out", type=Path, default=Path("resources/models"), help="models folder with manifest.json")
    parser.add_argument("--id", default="restorer-inpaint")
    parser.add_argument("--name", default="Restorer inpainting")
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--licence", default="Apache-2.0")
    parser.add_argument("--data", type=Path, default=Path("data/photos"), help="photo folder (for the model card)")
    parser.add_argument("--no-ema", action="store_true", help="export the raw generator, not the EMA copy")
    args = parser.parse_args(argv)

    from .card import write_card

    generator, state = load_generator(args.checkpoint, use_ema=not args.no_ema)
    args.out.mkdir(parents=True, exist_ok=True)
    file = args.out / f"{args.id}.onnx"
    metadata = {
        "restorer.kind": "inpaint", "restorer.id": args.id, "restorer.version": args.version,
        "restorer.prefill": "ns", "restorer.size_multiple": SIZE_MULTIPLE, "restorer.max_side": MAX_SIDE,
        "restorer.text_embedding_size": TEXT_EMBEDDING_SIZE, "restorer.inputs":
            "image float32 [1,3,H,W] in [0,1] pre-filled by cv2 INPAINT_NS r=3; mask float32 [1,1,H,W] 1=hole; "
            "text float32 [1,384] MiniLM embedding, zeros = no description",
        "restorer.outputs": "output float32 [1,3,H,W] full RGB; clip to [0,1], paste hole pixels only",
        "restorer.training_steps": state.get("step", 0), "restorer.licence": args.licence,
    }
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / file.name
        export_onnx(generator, candidate, metadata)
        worst = parity(generator, candidate)
        print(f"ONNX Runtime vs torch: max abs diff {worst:.2e} at sizes {PARITY_SIZES}")
        effect = text_effect(generator)
        print(f"Text input: a description changes the fill by {effect:.2f} levels (0-255) on average"
              + ("  WARNING: this checkpoint ignores descriptions" if effect < 0.05 else ""))
        if worst > PARITY_TOLERANCE:
            raise SystemExit(f"Parity check failed ({worst:.2e} > {PARITY_TOLERANCE}); nothing was written.")
        file.write_bytes(candidate.read_bytes())
    card = f"MODEL_CARD_{args.id}.md"
    # The run folder holding checkpoints/, so the card's command names the run that was exported.
    run = args.checkpoint.parent.parent if args.checkpoint.parent.name == "checkpoints" else None
    write_card(args.out / card, args.id, args.name, args.version, state, args.data, args.licence,
               run_dir=run.as_posix() if run else None)
    entry = manifest_entry(args.id, args.name, args.version, file, args.licence, card,
                           "Learned fill for scratches, strokes and torn areas; starts from the Navier-Stokes "
                           "fill and adds texture; understands short descriptions.")
    update_manifest(args.out, entry)
    print(f"wrote {file} ({entry['size'] / 1e6:.1f} MB, sha256 {entry['sha256'][:12]}...), {card}, manifest entry")


if __name__ == "__main__":
    main(sys.argv[1:])
