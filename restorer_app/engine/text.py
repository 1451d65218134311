"""Descriptions -> embeddings: the tokenizer (``tokenizers``) plus the ONNX sentence encoder.

The encoder model already does the sentence-transformers pooling (mean over real tokens,
then L2 normalisation), so an embedding here is one ``session.run``. An empty description is
the "no description" embedding: all zeros, which is what the inpainting models were trained
to read as "no caption". No torch, no transformers: this ships in the app.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import ModelCorruptError, ModelMissingError
from .files import sha256_file
from .registry import LoadedModel, ModelKind, ModelRegistry
from .runtime import Device

DEFAULT_MAX_TOKENS = 128


class TextEncoder:
    """Embeds prompts with a verified ``text-encoder`` model from the registry."""

    def __init__(self, model: LoadedModel, cache_size: int = 256) -> None:
        from tokenizers import Tokenizer

        self.model = model
        entry = model.entry
        if entry.kind is not ModelKind.TEXT_ENCODER:
            raise ModelCorruptError(f"'{entry.id}' is a {entry.kind.value} model, not a text encoder.")
        facts = model.session.get_modelmeta().custom_metadata_map
        tokenizer_path = self._tokenizer_path(entry.path, facts)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(int(facts.get("restorer.max_tokens", DEFAULT_MAX_TOKENS)))
        self.tokenizer.enable_padding()
        output = entry.outputs[0]
        self.embedding_size = int(output.channels or facts.get("restorer.embedding_size", 384))
        self._output = output.name
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def from_registry(cls, registry: ModelRegistry, model_id: str | None = None,
                      device: Device = Device.CPU, cache_size: int = 256) -> "TextEncoder":
        """Open ``model_id`` (or the default text encoder). A sentence is tiny work, so the
        CPU is the default device: it avoids starting CUDA just for a description."""
        if model_id is None:
            entry = registry.default_entry(ModelKind.TEXT_ENCODER)
            if entry is None:
                raise ModelMissingError("No text encoder is installed, so descriptions cannot be used.")
            model_id = entry.id
        return cls(registry.open(model_id, device), cache_size)

    @staticmethod
    def _tokenizer_path(model_path: Path, facts: dict[str, str]) -> Path:
        name = facts.get("restorer.tokenizer")
        if not name:
            raise ModelCorruptError(f"'{model_path.name}' does not name its tokenizer in its metadata.")
        path = model_path.parent / Path(name).name  # a bare file name, never a path elsewhere
        if not path.is_file():
            raise ModelMissingError(f"The tokenizer {path.name} of '{model_path.name}' is missing from {path.parent}.")
        expected = facts.get("restorer.tokenizer_sha256")
        if expected and sha256_file(path) != expected.lower():
            raise ModelCorruptError(f"The tokenizer {path.name} is damaged or was replaced; reinstall it.")
        return path

    def embed(self, prompt: str) -> np.ndarray:
        """One float32 vector of ``embedding_size``; zeros for an empty prompt."""
        return self.embed_batch([prompt])[0]

    def embed_batch(self, prompts: list[str]) -> np.ndarray:
        """N x ``embedding_size`` float32; unit length rows, zero rows for empty prompts."""
        texts = [" ".join(p.split()) for p in prompts]  # whitespace never changes the meaning
        out = np.zeros((len(texts), self.embedding_size), np.float32)
        todo = []
        with self._lock:
            for i, text in enumerate(texts):
                if text and text in self._cache:
                    self._cache.move_to_end(text)
                    out[i] = self._cache[text]
                elif text:
                    todo.append(i)
        if not todo:
            return out
        encodings = self.tokenizer.encode_batch([texts[i] for i in todo])
        feeds = {"input_ids": np.array([e.ids for e in encodings], np.int64),
                 "attention_mask": np.array([e.attention_mask for e in encodings], np.int64)}
        (vectors,) = self.model.session.run([self._output], feeds)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        with self._lock:
            for row, i in enumerate(todo):
                out[i] = vectors[row]
                self._cache[texts[i]] = vectors[row]
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out
