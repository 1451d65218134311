"""Recoloured holes: the training signal that makes descriptions matter."""

import numpy as np

from models.captions import describe_pixels
from models.dataset import DataConfig, fixed_batch, recolour_inside, synthetic_photo


def test_recolour_changes_only_the_hole_and_keeps_its_texture():
    rng = np.random.default_rng(0)
    photo = synthetic_photo(rng, 96, 112)
    inside = np.zeros(photo.shape[:2], bool)
    inside[20:60, 30:90] = True
    changed = 0
    for seed in range(12):
        out = recolour_inside(photo, inside, np.random.default_rng(seed))
        assert np.array_equal(out[~inside], photo[~inside])
        changed += not np.array_equal(out[inside], photo[inside])
        # Structure survives: value (max channel) inside still follows the original's pattern.
        value_in, value_out = photo[inside].max(axis=1).astype(float), out[inside].max(axis=1).astype(float)
        assert np.corrcoef(value_in, value_out)[0, 1] > 0.6
    assert changed == 12


def test_recolours_span_many_colour_names():
    photo = np.full((64, 64, 3), 128, np.uint8)
    photo[::2] += 10  # a little texture
    inside = np.zeros((64, 64), bool)
    inside[16:48, 16:48] = True
    captions = {describe_pixels(recolour_inside(photo, inside, np.random.default_rng(seed)) / 255.0, inside)
                for seed in range(60)}
    words = {w for c in captions for w in c.split()}
    assert {"red", "blue", "green"} <= words
    assert words & {"grey", "black", "white"}
    assert {"dark", "light"} <= words


def test_validation_batches_are_never_recoloured():
    plain = fixed_batch(DataConfig(photos="synthetic", text_encoder="none"), "val", per_family=1)
    recolouring = fixed_batch(DataConfig(photos="synthetic", text_encoder="none", caption_drop=0.0, recolour_prob=1.0),
                              "val", per_family=1)
    assert np.array_equal(plain["target"].numpy(), recolouring["target"].numpy())
