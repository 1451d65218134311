"""Export a trained damage detector to ONNX for Restorer and register it.

``python -m models.export_detect --checkpoint runs/detect/last.pt`` exports the detector with its
sigmoid (the output is a probability) with the dynamo exporter at opset 18, height and width
dynamic in multiples of 16, stores its large weights as float16 (half the file;
``--full-precision`` keeps float32), checks ONNX Runtime against torch at two sizes (max abs
diff <= 1e-3, 1e-4 in float32) and only then writes the model and its manifest entry (kind
``detect``) into ``resources/models``. The model card is written by ``python -m models.evaluate_detect --card``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from .detect_net import SIZE_MULTIPLE, DamageDetector, DetectorConfig, ProbabilityHead, count_parameters
from .export import save_export, sha256_file, update_manifest, write_checked

MAX_SIDE = 1024
PARITY_SIZES = ((64, 96), (160, 112))
PARITY_TOLERANCE = 1e-4
#: With float16 weights (models.half_weights): under a quarter of an 8-bit level.
HALF_PARITY_TOLERANCE = 1e-3
CARD = "MODEL_CARD_restorer-detect.md"


def load_detector(checkpoint: Path) -> tuple[ProbabilityHead, dict]:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = DetectorConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()})
    detector = DamageDetector(config)
    detector.load_state_dict(state["model"])
    return ProbabilityHead(detector).eval().float(), state


def export_onnx(model: ProbabilityHead, path: Path, metadata: dict[str, str]) -> None:
    h = torch.export.Dim("h16", min=1, max=1024)
    w = torch.export.Dim("w16", min=1, max=1024)
    with torch.no_grad():
        program = torch.onnx.export(
            model, (torch.rand(1, 3, 64, 96),), dynamo=True, opset_version=18, external_data=False,
            input_names=["image"], output_names=["damage"],
            dynamic_shapes={"image": {2: SIZE_MULTIPLE * h, 3: SIZE_MULTIPLE * w}}, verbose=False,
        )
    save_export(program, path, metadata)


def parity(model: ProbabilityHead, path: Path, sizes=PARITY_SIZES, seed: int = 0) -> float:
    """Largest |ONNX Runtime - torch| over random photos at ``sizes``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for h, w in sizes:
        image = rng.random((1, 3, h, w), dtype=np.float32)
        (ours,) = session.run(["damage"], {"image": image})
        with torch.no_grad():
            reference = model(torch.from_numpy(image)).numpy()
        worst = max(worst, float(np.abs(ours - reference).max()))
    return worst


def manifest_entry(model_id: str, name: str, version: str, file: Path, licence: str, default: bool = True) -> dict:
    return {
        "id": model_id, "name": name, "version": version, "kind": "detect", "file": file.name,
        "sha256": sha256_file(file), "size": file.stat().st_size, "licence": licence,
        "size_multiple": SIZE_MULTIPLE, "max_side": MAX_SIDE, "default": default, "card": CARD,
        "description": "Finds scratches, cracks, dust, hair, creases, tears, stains and foxing; "
                       "gives each pixel a damage probability.",
        "inputs": [{"name": "image", "dtype": "float32", "layout": "NCHW", "channels": 3, "range": [0, 1]}],
        "outputs": [{"name": "damage", "dtype": "float32", "layout": "NCHW", "channels": 1, "range": [0, 1]}],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.export_detect", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/detect/last.pt"))
    parser.add_argument("--out", type=Path, default=Path("resources/models"), help="models folder with manifest.json")
    parser.add_argument("--id", default="restorer-detect")
    parser.add_argument("--name", default="Restorer damage detection")
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--licence", default="Apache-2.0")
    parser.add_argument("--full-precision", action="store_true", help="keep float32 weights (twice the file)")
    args = parser.parse_args(argv)

    model, state = load_detector(args.checkpoint)
    file = args.out / f"{args.id}.onnx"
    metadata = {
        "restorer.kind": "detect", "restorer.id": args.id, "restorer.version": args.version,
        "restorer.size_multiple": SIZE_MULTIPLE, "restorer.max_side": MAX_SIDE,
        "restorer.inputs": "image float32 [1,3,H,W] RGB in [0,1], H and W multiples of 16",
        "restorer.outputs": "damage float32 [1,1,H,W]: probability that the pixel is damage",
        "restorer.parameters": count_parameters(model), "restorer.training_steps": state.get("step", 0),
        "restorer.licence": args.licence,
    }
    write_checked(file, lambda path: export_onnx(model, path, metadata), lambda path: parity(model, path),
                  args.full_precision, (PARITY_TOLERANCE, HALF_PARITY_TOLERANCE))
    entry = manifest_entry(args.id, args.name, args.version, file, args.licence)
    update_manifest(args.out, entry)
    print(f"wrote {file} ({entry['size'] / 1e6:.2f} MB, {count_parameters(model):,} parameters, "
          f"sha256 {entry['sha256'][:12]}...) and its manifest entry")


if __name__ == "__main__":
    main(sys.argv[1:])
