"""Store an ONNX model's large weights as float16, computed in float32.

Every shipped model costs its size in the repository for ever, and a float32 conv weight
holds more precision than a photo needs. Each large float32 initializer is stored as float16
and followed by a ``Cast`` back to float32; ONNX Runtime folds those casts when the session is
created, so the model runs exactly as a float32 model with the rounded weights (same speed, half
the file). The exporters' parity checks then compare the rounded model with torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Initializers smaller than this stay float32 (biases, norms: no gain, and they steer a lot).
MIN_ELEMENTS = 1024


def halve_weights(path: Path, min_elements: int = MIN_ELEMENTS) -> int:
    """Rewrite ``path`` in place; returns how many initializers were stored as float16."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    kept = []
    halved = 0
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_elements:
            values = numpy_helper.to_array(init).astype(np.float16)
            stored = numpy_helper.from_array(values, init.name + "__fp16")
            kept.append(stored)
            casts.append(helper.make_node("Cast", [stored.name], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "__to_fp32"))
            halved += 1
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return halved
