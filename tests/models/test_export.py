"""Export is tested like code: ONNX Runtime must match torch, and the app must load the result."""

import json

import numpy as np
import onnx
import pytest
import torch

from models.export import PARITY_TOLERANCE, export_onnx, manifest_entry, parity, update_manifest
from models.network import GeneratorConfig, InpaintGenerator

ORT = pytest.importorskip("onnxruntime")
# The dynamo exporter narrates its own internals (axis renaming, pytree deprecations).
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::FutureWarning")]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny random-init generator whose residual and FiLM paths are far from zero, so the
    comparison sees every layer (a fresh network's output is nearly its input). Every weight
    is jittered too: like trained weights, no two tensors are equal (the exporter shares
    identical constants, such as the zero-initialised biases, under one name)."""
    torch.manual_seed(0)
    net = InpaintGenerator(GeneratorConfig(widths=(8, 16, 16, 24), dilations=(1, 2), text_hidden=16)).eval()
    with torch.no_grad():
        for weight in net.parameters():
            weight.add_(torch.randn_like(weight) * 0.01)
        torch.nn.init.normal_(net.head.weight, std=0.3)
        torch.nn.init.normal_(net.film[-1].weight, std=0.3)
    folder = tmp_path_factory.mktemp("models")
    path = folder / "tiny.onnx"
    export_onnx(net, path, {"restorer.kind": "inpaint", "restorer.size_multiple": 8})
    return net, path


def test_the_same_weights_export_to_the_same_bytes(exported, tmp_path):
    """Exports are reproducible: two processes with different hash seeds (which reorder
    Python sets) write byte-identical files, so a re-export keeps the model's sha256."""
    import os
    import subprocess
    import sys

    net, _ = exported
    torch.save({"config": net.config, "state": net.state_dict()}, tmp_path / "net.pt")
    script = (
        "import sys, torch\n"
        "from pathlib import Path\n"
        "from models.export import export_onnx\n"
        "from models.network import InpaintGenerator\n"
        "saved = torch.load(sys.argv[1], weights_only=False)\n"
        "net = InpaintGenerator(saved['config']); net.load_state_dict(saved['state'])\n"
        "export_onnx(net, Path(sys.argv[2]), {'restorer.kind': 'inpaint'})\n"
    )
    for seed in ("1", "5"):  # these two order that set differently (torch 2.13)
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "net.pt"), str(tmp_path / f"{seed}.onnx")],
                       check=True, capture_output=True, env=dict(os.environ, PYTHONHASHSEED=seed), timeout=300)
    assert (tmp_path / "1.onnx").read_bytes() == (tmp_path / "5.onnx").read_bytes()


def test_onnx_runtime_matches_torch_at_two_sizes(exported):
    net, path = exported
    assert parity(net, path, sizes=((64, 96), (120, 72))) <= PARITY_TOLERANCE


def test_export_is_opset_18_with_dynamic_size_and_metadata(exported):
    _, path = exported
    model = onnx.load(str(path))
    assert {o.domain: o.version for o in model.opset_import}.get("", None) == 18
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[:2]] == [1, 3] and all(d.dim_param for d in dims[2:])
    assert {p.key: p.value for p in model.metadata_props}["restorer.kind"] == "inpaint"
    assert not any(n.op_type in ("DFT", "STFT") for n in model.graph.node)


def test_the_app_loads_and_runs_the_exported_model(exported, tmp_path):
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry

    _, path = exported
    target = tmp_path / "tiny.onnx"
    target.write_bytes(path.read_bytes())
    update_manifest(tmp_path, manifest_entry("tiny", "Tiny", "0", target, "Apache-2.0", "", "test model"))
    assert json.loads((tmp_path / "manifest.json").read_text())["models"][0]["sha256"]
    pixels = (np.random.default_rng(0).random((70, 90, 3)) * 255).astype(np.uint8)
    mask = np.zeros((70, 90), np.uint8)
    mask[20:40, 30:60] = 255
    result = Inpainter(ModelRegistry([tmp_path])).inpaint(
        RasterImage(pixels, ImageInfo("PNG", 8)), mask, InpaintRequest(method="tiny"))
    assert result.method_id == "tiny"
    assert np.array_equal(result.pixels[mask == 0], pixels[mask == 0])


def test_update_manifest_replaces_by_id_and_moves_the_default(tmp_path):
    update_manifest(tmp_path, {"id": "a", "kind": "inpaint", "default": True})
    update_manifest(tmp_path, {"id": "b", "kind": "inpaint", "default": True})
    update_manifest(tmp_path, {"id": "b", "kind": "inpaint", "default": True, "version": "2"})
    models = {m["id"]: m for m in json.loads((tmp_path / "manifest.json").read_text())["models"]}
    assert set(models) == {"a", "b"} and models["b"]["version"] == "2"
    assert models["a"]["default"] is False


def test_training_can_warm_start_from_an_exported_model(exported):
    """A fresh clone has no checkpoints: the shipped ONNX file must give back every weight."""
    from models.train import onnx_weights

    net, path = exported
    weights = onnx_weights(path)
    own = net.state_dict()
    assert set(weights) == set(own)
    assert all(torch.equal(weights[k], own[k]) for k in own)
    copy = InpaintGenerator(net.config).eval()
    copy.load_state_dict(weights)
    image, mask, text = torch.rand(1, 3, 32, 40), (torch.rand(1, 1, 32, 40) > 0.7).float(), torch.randn(1, 384)
    with torch.no_grad():
        assert torch.equal(copy(image, mask, text), net(image, mask, text))
