"""The Qt-free stroke: its small undo patch must equal a whole-mask before/after diff."""

from __future__ import annotations

import numpy as np

from restorer_app.gui.brush_stroke import TILE, BrushStroke


def test_patch_spanning_many_tiles_matches_full_copies():
    rng = np.random.default_rng(1)
    mask = np.where(rng.random((300, 420)) > 0.7, 255, 0).astype(np.uint8)
    before_full = mask.copy()
    stroke = BrushStroke(mask, diameter=17, value=0)
    for x, y in [(10, 10), (200, 150), (410, 40), (380, 290)]:
        stroke.add_point(x, y)
    patch = stroke.finish()
    assert patch.box.width > 2 * TILE and patch.box.height > 2 * TILE
    np.testing.assert_array_equal(patch.before, before_full[patch.box.slices])
    np.testing.assert_array_equal(patch.after, mask[patch.box.slices])
    outside = np.ones(mask.shape, bool)
    outside[patch.box.slices] = False
    np.testing.assert_array_equal(mask[outside], before_full[outside])


def test_painting_what_is_already_there_gives_no_patch():
    mask = np.full((50, 50), 255, np.uint8)
    stroke = BrushStroke(mask, diameter=5, value=255)
    stroke.add_point(10, 10)
    stroke.add_point(30, 30)
    assert stroke.finish() is None
