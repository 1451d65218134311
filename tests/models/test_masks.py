"""Mask families: shapes, determinism and measured coverage."""

import numpy as np
import pytest

from models.masks import COVERAGE, MaskFamily, coverage_stats, generate_mask, generate_mixed


@pytest.mark.parametrize("family", list(MaskFamily))
def test_coverage_stays_in_the_family_range(family):
    stats = coverage_stats(family, count=40, size=128, seed=3)
    low, high = COVERAGE[family]
    assert stats.maximum <= high
    assert stats.p05 >= low * 0.5  # the rare fallback may trim below the floor, never far
    assert low <= stats.p50 <= high


def test_families_are_ordered_by_size():
    medians = [coverage_stats(f, count=30, size=128, seed=1).p50 for f in MaskFamily]
    assert medians[0] < medians[1] < medians[2]


def test_blobs_reach_large_torn_regions():
    assert coverage_stats(MaskFamily.BLOBS, count=60, size=128, seed=2).p95 > 0.25


@pytest.mark.parametrize("family", list(MaskFamily))
def test_masks_are_binary_uint8_and_seeded(family):
    a = generate_mask(family, 96, 128, np.random.default_rng(7))
    b = generate_mask(family, 96, 128, np.random.default_rng(7))
    assert a.dtype == np.uint8 and a.shape == (96, 128)
    assert set(np.unique(a)) <= {0, 255}
    assert np.array_equal(a, b)


def test_mixture_and_unknown_family():
    rng = np.random.default_rng(0)
    seen = {generate_mixed(64, 64, rng, {f: 1.0 for f in MaskFamily})[0] for _ in range(30)}
    assert seen == set(MaskFamily)
    with pytest.raises(ValueError, match="Unknown mask family"):
        MaskFamily.parse("confetti")
