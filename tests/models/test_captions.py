"""Captions are generated from the pixels inside the hole."""

import numpy as np
import pytest

from models.captions import describe_pixels


def patch(rgb, size=32):
    return np.ones((size, size, 3), np.float32) * np.array(rgb, np.float32)


@pytest.mark.parametrize("rgb, word", [
    ((0.9, 0.1, 0.1), "red"), ((0.1, 0.2, 0.8), "blue"), ((0.2, 0.7, 0.2), "green"),
    ((0.95, 0.85, 0.1), "yellow"), ((0.45, 0.28, 0.12), "brown"), ((0.5, 0.5, 0.5), "grey"),
    ((0.03, 0.03, 0.03), "black"), ((0.97, 0.97, 0.97), "white"),
])
def test_colour_names(rgb, word):
    assert word in describe_pixels(patch(rgb)).split()


def test_light_dark_and_texture():
    assert "light" in describe_pixels(patch((0.6, 0.8, 0.97)))
    assert "dark" in describe_pixels(patch((0.1, 0.15, 0.45)))
    assert describe_pixels(patch((0.2, 0.6, 0.2))).startswith("smooth")
    noisy = np.clip(patch((0.4, 0.4, 0.4)) + np.random.default_rng(0).normal(0, 0.12, (32, 32, 3)), 0, 1)
    assert describe_pixels(noisy.astype(np.float32)).split()[0] in ("textured", "detailed")


def test_only_pixels_inside_the_mask_count():
    image = patch((0.9, 0.1, 0.1), 40)
    image[:, 20:] = (0.1, 0.2, 0.85)
    mask = np.zeros((40, 40), bool)
    mask[:, 25:] = True
    words = describe_pixels(image, mask).split()
    assert "blue" in words and "red" not in words


def test_two_colours_and_wording_variety():
    image = patch((0.9, 0.1, 0.1), 40)
    image[:, 20:] = (0.1, 0.6, 0.1)
    caption = describe_pixels(image)
    assert "red" in caption and "green" in caption
    rng = np.random.default_rng(0)
    variants = {describe_pixels(image, rng=rng) for _ in range(20)}
    assert len(variants) > 1 and all("red" in v and "green" in v for v in variants)


def test_empty_hole_has_no_caption():
    assert describe_pixels(patch((0.5, 0.5, 0.5)), np.zeros((32, 32), bool)) == ""
