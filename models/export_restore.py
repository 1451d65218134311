"""Export a trained restoration model to ONNX for Restorer and register it.

``python -m models.export_restore --checkpoint runs/restore/final.pt`` exports the network with
its level estimator and colour step (inputs ``image``, ``strength`` and ``tone``; outputs
``output``, ``levels`` and ``curves``) with the dynamo exporter at opset 18,
height and width dynamic in multiples of 16, stores its large weights as float16 (half the file;
`--full-precision` keeps float32), checks ONNX Runtime against torch at two sizes (max abs diff
<= 1e-3, 1e-4 in float32) and only then writes the model and its manifest entry (kind
``restore``) into ``resources/models``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from .export import save_export, sha256_file, update_manifest, write_checked
from .restore_net import SIZE_MULTIPLE, TONE_FEATURES, ExportedRestorer, RestoreNet, config_from, count_parameters
from .train_restore import load_weights

MAX_SIDE = 1024
PARITY_SIZES = ((64, 96), (160, 112))
PARITY_TOLERANCE = 1e-4
#: With float16 weights (models.half_weights): under a quarter of an 8-bit level.
HALF_PARITY_TOLERANCE = 1e-3
CARD = "MODEL_CARD_restorer-restore.md"


def load_restorer(checkpoint: Path) -> tuple[RestoreNet, dict]:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    net = RestoreNet(config_from(state["config"]))
    load_weights(net, state["model"])
    if "tone" not in state:
        print("note: this checkpoint has no trained colour step; its curves leave the colour as it is")
    return net.eval().float(), state


OUTPUTS = ["output", "levels", "curves"]


def export_onnx(net: RestoreNet, path: Path, metadata: dict[str, str]) -> None:
    h = torch.export.Dim("h16", min=1, max=1024)
    w = torch.export.Dim("w16", min=1, max=1024)
    spatial = {2: SIZE_MULTIPLE * h, 3: SIZE_MULTIPLE * w}
    with torch.no_grad():
        program = torch.onnx.export(
            ExportedRestorer(net), (torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96), torch.rand(1, TONE_FEATURES)),
            dynamo=True, opset_version=18, external_data=False, input_names=["image", "strength", "tone"],
            output_names=OUTPUTS, dynamic_shapes={"image": spatial, "strength": spatial, "tone": None}, verbose=False,
        )
    save_export(program, path, metadata)


def parity(net: RestoreNet, path: Path, sizes=PARITY_SIZES, seed: int = 0) -> float:
    """Largest |ONNX Runtime - torch| over random photos, strengths and tone features at
    ``sizes``, every output."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for h, w in sizes:
        image = rng.random((1, 3, h, w), dtype=np.float32)
        strength = rng.random((1, 3, h, w), dtype=np.float32)
        tone = rng.random((1, TONE_FEATURES), dtype=np.float32)
        ours = session.run(OUTPUTS, {"image": image, "strength": strength, "tone": tone})
        with torch.no_grad():
            reference = [t.numpy() for t in ExportedRestorer(net)(*map(torch.from_numpy, (image, strength, tone)))]
        worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(ours, reference)))
    return worst


def manifest_entry(model_id: str, name: str, version: str, file: Path, licence: str, default: bool = True) -> dict:
    spec = lambda n: {"dtype": "float32", "layout": "NCHW", "channels": n, "range": [0, 1]}  # noqa: E731
    return {
        "id": model_id, "name": name, "version": version, "kind": "restore", "file": file.name,
        "sha256": sha256_file(file), "size": file.stat().st_size, "licence": licence,
        "size_multiple": SIZE_MULTIPLE, "max_side": MAX_SIDE, "default": default, "card": CARD,
        "description": "Removes noise, film grain, JPEG blocks and softness by the strengths given or estimated.",
        "inputs": [{"name": "image", **spec(3)}, {"name": "strength", **spec(3)},
                   {"name": "tone", "dtype": "float32", "layout": "NC", "channels": TONE_FEATURES}],
        "outputs": [{"name": "output", **spec(3)}, {"name": "levels", **spec(3)}, {"name": "curves", **spec(6)}],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.export_restore", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/restore/final.pt"))
    parser.add_argument("--out", type=Path, default=Path("resources/models"), help="models folder with manifest.json")
    parser.add_argument("--id", default="restorer-restore")
    parser.add_argument("--name", default="Restorer photo restoration")
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--licence", default="Apache-2.0")
    parser.add_argument("--full-precision", action="store_true", help="keep float32 weights (twice the file)")
    args = parser.parse_args(argv)

    net, state = load_restorer(args.checkpoint)
    file = args.out / f"{args.id}.onnx"
    metadata = {
        "restorer.kind": "restore", "restorer.id": args.id, "restorer.version": args.version,
        "restorer.size_multiple": SIZE_MULTIPLE, "restorer.max_side": MAX_SIDE,
        "restorer.inputs": "image float32 [1,3,H,W] RGB in [0,1]; strength float32 [1,3,H,W]: denoise "
                           "(1 = sigma 30/255), deblock (1 = JPEG quality 10), sharpen (1 = blur sigma 3 px); "
                           f"tone float32 [1,{TONE_FEATURES}]: the photo's per-channel quantiles",
        "restorer.outputs": "output float32 [1,3,H,W] restored RGB; levels float32 [1,3,1,1] estimated strengths; "
                            "curves float32 [1,6,1,1] colour gain and offset per channel (0.5 = unchanged)",
        "restorer.parameters": count_parameters(net), "restorer.training_steps": state.get("step", 0),
        "restorer.licence": args.licence,
    }
    write_checked(file, lambda path: export_onnx(net, path, metadata), lambda path: parity(net, path),
                  args.full_precision, (PARITY_TOLERANCE, HALF_PARITY_TOLERANCE))
    entry = manifest_entry(args.id, args.name, args.version, file, args.licence)
    update_manifest(args.out, entry)
    print(f"wrote {file} ({entry['size'] / 1e6:.2f} MB, {count_parameters(net):,} parameters, "
          f"sha256 {entry['sha256'][:12]}...) and its manifest entry")


if __name__ == "__main__":
    main(sys.argv[1:])
