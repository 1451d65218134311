"""Shared fixtures (the factories live in factories.py so tests can import them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import build_tiny_inpaint_model, make_mask, make_photo, tiny_entry, write_manifest


@pytest.fixture
def photo() -> np.ndarray:
    return make_photo()


@pytest.fixture
def mask() -> np.ndarray:
    return make_mask()


@pytest.fixture
def tiny_model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_inpaint_model(folder / "tiny.onnx")
    write_manifest(folder, [tiny_entry(folder)])
    return folder


@pytest.fixture
def scan(tmp_path):
    """A photo and its mask as PNG files in ``tmp_path``: (folder, photo, mask)."""
    from PIL import Image

    photo, mask = make_photo(120, 160), make_mask(120, 160)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return tmp_path, photo, mask
