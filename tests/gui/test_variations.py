"""Variations in the window: several fills of one mask, previews to pick from, the chosen seed
recorded."""

from __future__ import annotations

import numpy as np
import pytest

from factories import (build_tiny_generate_model, build_tiny_inpaint_model, generate_entry, tiny_entry,
                       write_manifest)
from restorer_app.engine.pipeline import Inpainter
from restorer_app.engine.registry import ModelRegistry
from restorer_app.gui.main_window import MainWindow

from gui_helpers import DAMAGE, run_fill


@pytest.fixture
def generating(qtbot, settings, tmp_path, photo_file, mask_file):
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_inpaint_model(folder / "tiny.onnx")
    build_tiny_generate_model(folder / "generate.onnx")
    write_manifest(folder, [tiny_entry(folder), generate_entry(folder)])
    window = MainWindow(settings, Inpainter(ModelRegistry([folder])))
    qtbot.addWidget(window)
    window.resize(900, 640)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_path(photo_file, mask_file)
    assert window.panel.select_method("tiny-generate")
    yield window
    window.close()


def test_variations_fill_the_strip_and_the_chosen_one_is_recorded(qtbot, generating):
    window = generating
    window.panel.variations_spin.setValue(3)
    run_fill(qtbot, window)
    strip = window.panel.variation_strip
    assert strip.isVisible() and strip.count == 3
    pending = window.editor.document.pending
    assert (pending.variation, pending.request.seed) == (1, 0)
    first = pending.result.pixels.copy()
    assert window.actions_.variation_next.isEnabled()
    window.actions_.variation_next.trigger()
    pending = window.editor.document.pending
    assert (pending.variation, pending.request.seed) == (2, 1) and strip.current == 2
    assert np.abs(pending.result.pixels[DAMAGE.slices].astype(int) - first[DAMAGE.slices]).max() > 0
    window.actions_.variation_prev.trigger()
    assert window.editor.document.pending.variation == 1
    strip.select(3)
    assert window.editor.document.pending.variation == 3
    window.accept_fill()
    assert not strip.isVisible() and strip.count == 0
    (operation,) = window.editor.document.operations
    assert (operation.seed, operation.variation, operation.model_id) == (2, 3, "tiny-generate")
    (saved,) = window.editor.project().steps
    assert (saved.operation.seed, saved.operation.variation) == (2, 3)


def test_discard_then_fill_gives_new_seeds(qtbot, generating):
    window = generating
    run_fill(qtbot, window)
    first = window.editor.document.pending
    assert first.request.seed == 0 and first.variation == 0
    assert not window.panel.variation_strip.isVisible()
    first_pixels = first.result.pixels.copy()
    window.discard_fill()
    run_fill(qtbot, window)
    again = window.editor.document.pending
    assert again.request.seed == 1
    assert np.abs(again.result.pixels[DAMAGE.slices].astype(int) - first_pixels[DAMAGE.slices]).max() > 0


def test_classical_methods_make_one_fill(qtbot, generating):
    window = generating
    window.panel.variations_spin.setValue(4)
    assert window.panel.select_method("telea")
    assert not window.panel.variations_spin.isEnabled()
    assert window.panel.fill_options().variations == 1
    run_fill(qtbot, window)
    assert window.panel.variation_strip.count == 0 and window.editor.document.pending.variation == 0


def test_extend_canvas_saves_the_extended_photo_and_opens_it_with_the_band_marked(qtbot, generating, tmp_path,
                                                                                   photo_file):
    from PIL import Image

    from restorer_app.engine.canvas import Margins
    from restorer_app.engine.export import sidecar_path, verify_output

    window = generating
    assert window.panel.select_method("auto")
    before = window.editor.document.image.pixels.copy()
    target = tmp_path / "wider.png"
    with qtbot.waitSignal(window.extension.saved, timeout=10_000):
        assert window.extend_canvas(Margins(0, 20, 0, 12), target)
    saved = np.asarray(Image.open(target))
    assert saved.shape == (before.shape[0], before.shape[1] + 32, 3)
    assert np.array_equal(saved[:, 12:12 + before.shape[1]], before)
    import json
    (op,) = json.loads(sidecar_path(target).read_text())["operations"]
    assert op["action"] == "extend" and (op["extend_right"], op["extend_left"]) == (20, 12)
    assert op["model_id"] == "tiny"  # seed 0: the inpainter's most likely fill
    verify_output(target)
    qtbot.waitUntil(lambda: window.editor.document is not None and window.editor.document.path == target)
    document = window.editor.document
    assert document.size == saved.shape[:2]
    band = np.zeros(document.size, bool)
    band[:, :12] = band[:, -20:] = True
    assert np.array_equal(document.mask > 0, band)
    assert window.variations.next_seed == 1  # Fill now gives the generated alternatives
