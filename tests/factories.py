"""Generated test data: photo-like images, masks and a tiny ONNX inpainting model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np


def make_photo(height: int = 120, width: int = 160, channels: int = 3, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like test image with edges (not noise, so fills are meaningful)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = [
        0.5 + 0.4 * np.sin(xx / 17.0 + c) * np.cos(yy / 23.0 - c) + 0.05 * rng.standard_normal((height, width))
        for c in range(channels)
    ]
    image = np.clip(np.stack(planes, axis=2), 0, 1)
    image[height // 3: height // 2, :, :] *= 0.5  # a horizontal edge
    top = 65535 if dtype == np.uint16 else 255
    return np.round(image * top).astype(dtype)


def make_mask(height: int = 120, width: int = 160) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (5, 10), (width - 20, height - 30), 255, 3)
    cv2.circle(mask, (width - 30, 25), 9, 255, -1)
    mask[height - 12: height - 8, 10:14] = 255
    return mask


TINY_SHIFT = 0.25


def build_tiny_inpaint_model(path: Path, *, with_text: bool = False, text_size: int = 4) -> None:
    """output = image + mask * (TINY_SHIFT + 0.1 * sum(text)): a real ONNX graph with dynamic H, W."""
    import onnx
    from onnx import TensorProto, helper

    inputs = [
        helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]),
        helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, "H", "W"]),
    ]
    nodes = [
        helper.make_node("Constant", [], ["shift"], value=helper.make_tensor("s", TensorProto.FLOAT, [], [TINY_SHIFT])),
        helper.make_node("Mul", ["mask", "shift"], ["scaled"]),
        helper.make_node("Add", ["image", "scaled"], ["output"]),
    ]
    if with_text:
        inputs.append(helper.make_tensor_value_info("text", TensorProto.FLOAT, [1, text_size]))
        nodes[1:] = [
            helper.make_node("ReduceSum", ["text"], ["text_sum"], keepdims=0),
            helper.make_node("Constant", [], ["tenth"], value=helper.make_tensor("t", TensorProto.FLOAT, [], [0.1])),
            helper.make_node("Mul", ["text_sum", "tenth"], ["text_shift"]),
            helper.make_node("Add", ["shift", "text_shift"], ["total_shift"]),
            helper.make_node("Mul", ["mask", "total_shift"], ["scaled"]),
            helper.make_node("Add", ["image", "scaled"], ["output"]),
        ]
    graph = helper.make_graph(nodes, "tiny", inputs,
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_tiny_generate_model(path: Path, *, channels: int = 8) -> None:
    """A generation model: output = image + mask * (TINY_SHIFT + 4 * mean(latent)), so each
    latent code (each seed) gives another fill; dynamic H, W, the latent at H/8 x W/8."""
    from onnx import TensorProto, helper

    inputs = [
        helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]),
        helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("latent", TensorProto.FLOAT, [1, channels, "h", "w"]),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["latent"], ["latent_mean"], keepdims=0),
        helper.make_node("Constant", [], ["four"], value=helper.make_tensor("f", TensorProto.FLOAT, [], [4.0])),
        helper.make_node("Mul", ["latent_mean", "four"], ["moved"]),
        helper.make_node("Constant", [], ["shift"], value=helper.make_tensor("s", TensorProto.FLOAT, [], [TINY_SHIFT])),
        helper.make_node("Add", ["shift", "moved"], ["total"]),
        helper.make_node("Mul", ["mask", "total"], ["scaled"]),
        helper.make_node("Add", ["image", "scaled"], ["output"]),
    ]
    _save_tiny(path, nodes, inputs, [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])],
               "tiny-generate")


def generate_entry(folder: Path, file: str = "generate.onnx", model_id: str = "tiny-generate", **overrides) -> dict:
    entry = tiny_entry(folder, file, model_id, kind="generate", name="Tiny generation model")
    entry["inputs"] = entry["inputs"] + [{"name": "latent", "dtype": "float32", "layout": "NCHW", "channels": 8}]
    entry.update(overrides)
    return entry


def _save_tiny(path: Path, nodes, inputs, outputs, name: str) -> None:
    import onnx
    from onnx import helper

    model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_tiny_restore_model(path: Path, *, shift: float = 0.0) -> None:
    """A ``restore`` model: output = image + shift * strength (the identity for shift 0)."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Constant", [], ["shift"], value=helper.make_tensor("s", TensorProto.FLOAT, [], [shift])),
        helper.make_node("Mul", ["strength", "shift"], ["scaled"]),
        helper.make_node("Add", ["image", "scaled"], ["output"]),
    ]
    _save_tiny(path, nodes,
               [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]),
                helper.make_tensor_value_info("strength", TensorProto.FLOAT, [1, 1, "H", "W"])],
               [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])], "tiny_restore")


def build_tiny_restore3_model(path: Path, *, shift: float = 0.0, with_levels: bool = True, blur: bool = False,
                              tone_scale: float | None = None) -> None:
    """A ``restore`` model with the three strengths (denoise, deblock, sharpen): output =
    image (3 x 3 box-blurred when ``blur``, so it needs context) + shift * strength, per
    channel; levels (optional) = the per-channel mean of the image, as its "estimate". With
    ``tone_scale``, a tone input (66 features) and curves = 0.5 + tone_scale * (the first six
    features - 0.5): scale 0 is the identity, and a test can see what the features were."""
    from onnx import TensorProto, helper

    source = "image"
    nodes = []
    if blur:
        nodes.append(helper.make_node("AveragePool", ["image"], ["smooth"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                      count_include_pad=0))
        source = "smooth"
    nodes += [
        helper.make_node("Constant", [], ["shift"], value=helper.make_tensor("s", TensorProto.FLOAT, [], [shift])),
        helper.make_node("Mul", ["strength", "shift"], ["scaled"]),
        helper.make_node("Add", [source, "scaled"], ["output"]),
    ]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])]
    if with_levels:
        nodes += [
            helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("a", TensorProto.INT64, [2], [2, 3])),
            helper.make_node("ReduceMean", ["image", "axes"], ["levels"], keepdims=1),
        ]
        outputs.append(helper.make_tensor_value_info("levels", TensorProto.FLOAT, [1, 3, 1, 1]))
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]),
              helper.make_tensor_value_info("strength", TensorProto.FLOAT, [1, 3, "H", "W"])]
    if tone_scale is not None:
        const = lambda name, dims, values, kind=TensorProto.FLOAT: helper.make_node(  # noqa: E731
            "Constant", [], [name], value=helper.make_tensor(name + "_v", kind, dims, values))
        nodes += [
            const("starts", [1], [0], TensorProto.INT64), const("ends", [1], [6], TensorProto.INT64),
            const("axis1", [1], [1], TensorProto.INT64), const("half", [], [0.5]), const("scale", [], [tone_scale]),
            const("shape", [4], [1, 6, 1, 1], TensorProto.INT64),
            helper.make_node("Slice", ["tone", "starts", "ends", "axis1"], ["first"]),
            helper.make_node("Sub", ["first", "half"], ["centred"]),
            helper.make_node("Mul", ["centred", "scale"], ["scaled_tone"]),
            helper.make_node("Add", ["scaled_tone", "half"], ["flat_curves"]),
            helper.make_node("Reshape", ["flat_curves", "shape"], ["curves"]),
        ]
        inputs.append(helper.make_tensor_value_info("tone", TensorProto.FLOAT, [1, 66]))
        outputs.append(helper.make_tensor_value_info("curves", TensorProto.FLOAT, [1, 6, 1, 1]))
    _save_tiny(path, nodes, inputs, outputs, "tiny_restore3")


def build_tiny_detect_model(path: Path, *, with_classes: bool = False) -> None:
    """A ``detect`` model: damage = the mean of the three channels; classes (optional) = the
    channels themselves, as three class logits."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("a", TensorProto.INT64, [1], [1])),
        helper.make_node("ReduceMean", ["image", "axes"], ["damage"], keepdims=1),
    ]
    outputs = [helper.make_tensor_value_info("damage", TensorProto.FLOAT, [1, 1, "H", "W"])]
    if with_classes:
        nodes.append(helper.make_node("Identity", ["image"], ["classes"]))
        outputs.append(helper.make_tensor_value_info("classes", TensorProto.FLOAT, [1, 3, "H", "W"]))
    _save_tiny(path, nodes, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
               outputs, "tiny_detect")


def write_manifest(folder: Path, entries: list[dict]) -> None:
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "models": entries}, indent=1))


def tiny_entry(folder: Path, file: str = "tiny.onnx", model_id: str = "tiny", **overrides) -> dict:
    data = (folder / file).read_bytes()
    entry = {
        "id": model_id, "name": "Tiny test model", "version": "0.1", "kind": "inpaint", "file": file,
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "licence": "Apache-2.0",
        "prefill": "ns", "size_multiple": 8, "max_side": 1024, "default": True,
        "inputs": [
            {"name": "image", "dtype": "float32", "layout": "NCHW", "channels": 3, "range": [0, 1]},
            {"name": "mask", "dtype": "float32", "layout": "NCHW", "channels": 1, "range": [0, 1]},
        ],
        "outputs": [{"name": "output", "dtype": "float32", "layout": "NCHW", "channels": 3, "range": [0, 1]}],
    }
    entry.update(overrides)
    return entry


class FakeCudaOnnxRuntime:
    """Makes onnxruntime look like a build with a GPU (for ``monkeypatch``): CUDA is listed
    as available, and sessions, which really run on the CPU, report ``reported`` as their
    providers. No GPU is needed to prove what the CUDA paths do with the answer."""

    def __init__(self, monkeypatch, reported=("CUDAExecutionProvider", "CPUExecutionProvider")) -> None:
        import onnxruntime

        real = onnxruntime.InferenceSession
        self.chains: list[list[str]] = []

        class ReportingSession:
            def __init__(inner, path, sess_options=None, providers=None):
                self.chains.append(list(providers or []))
                inner._session = real(path, sess_options=sess_options, providers=["CPUExecutionProvider"])

            def get_providers(inner):
                return list(reported)

            def __getattr__(inner, name):
                return getattr(inner._session, name)

        monkeypatch.setattr(onnxruntime, "get_available_providers",
                            lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
        monkeypatch.setattr(onnxruntime, "InferenceSession", ReportingSession)


def _image_spec(name: str, channels: int) -> dict:
    return {"name": name, "dtype": "float32", "layout": "NCHW", "channels": channels, "range": [0, 1]}


def restore_entry(folder: Path, file: str = "restore.onnx", model_id: str = "tiny-restore", **overrides) -> dict:
    """A manifest entry for :func:`build_tiny_restore_model`."""
    entry = tiny_entry(folder, file, model_id, kind="restore", prefill="none", max_side=64,
                       inputs=[_image_spec("image", 3), _image_spec("strength", 1)],
                       outputs=[_image_spec("output", 3)])
    entry.update(overrides)
    return entry


def restore3_entry(folder: Path, file: str = "restore3.onnx", model_id: str = "tiny-restore3", *,
                   with_levels: bool = True, with_tone: bool = False, **overrides) -> dict:
    """A manifest entry for :func:`build_tiny_restore3_model`."""
    outputs = [_image_spec("output", 3)] + ([_image_spec("levels", 3)] if with_levels else [])
    inputs = [_image_spec("image", 3), _image_spec("strength", 3)]
    if with_tone:
        inputs.append({"name": "tone", "dtype": "float32", "layout": "NC", "channels": 66})
        outputs.append(_image_spec("curves", 6))
    entry = tiny_entry(folder, file, model_id, kind="restore", prefill="none", max_side=64,
                       inputs=inputs, outputs=outputs)
    entry.update(overrides)
    return entry


def detect_entry(folder: Path, file: str = "detect.onnx", model_id: str = "tiny-detect", *,
                 with_classes: bool = False, **overrides) -> dict:
    """A manifest entry for :func:`build_tiny_detect_model`."""
    outputs = [_image_spec("damage", 1)]
    if with_classes:
        outputs.append({"name": "classes", "dtype": "float32", "layout": "NCHW", "channels": 3})
    entry = tiny_entry(folder, file, model_id, kind="detect", prefill="none", max_side=64,
                       inputs=[_image_spec("image", 3)], outputs=outputs)
    entry.update(overrides)
    return entry
