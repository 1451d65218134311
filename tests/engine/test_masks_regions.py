import numpy as np
import pytest
from PIL import Image

from restorer_app.engine import masks
from restorer_app.engine.errors import MaskError
from restorer_app.engine.regions import regions_around_mask

from factories import make_mask


def test_any_nonzero_value_in_any_channel_means_fill(tmp_path):
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[2, 3, 1] = 1
    rgb[5, 5] = 255
    Image.fromarray(rgb).save(tmp_path / "m.png")
    mask = masks.load_mask(tmp_path / "m.png", (10, 12))
    assert mask.dtype == np.uint8 and mask.shape == (10, 12)
    assert set(np.unique(mask)) == {0, 255}
    assert np.count_nonzero(mask) == 2 and mask[2, 3] == 255 and mask[5, 5] == 255


def test_painted_rgba_mask_ignores_transparent_background():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 0
    rgba[1, 1] = (255, 0, 0, 255)
    rgba[2, 2] = (0, 0, 0, 255)  # opaque black is "keep"
    assert np.argwhere(masks.mask_from_array(rgba)).tolist() == [[1, 1]]


def test_size_mismatch_is_a_clear_error(tmp_path):
    Image.new("L", (30, 20), 255).save(tmp_path / "m.png")
    with pytest.raises(MaskError, match="30x20 but the photo is 40x20"):
        masks.load_mask(tmp_path / "m.png", (20, 40))


def test_grow_shrink_invert_feather():
    mask = np.zeros((40, 40), np.uint8)
    mask[15:25, 15:25] = 255
    grown = masks.grow(mask, 3)
    assert np.count_nonzero(grown) > np.count_nonzero(mask) and grown[12, 20] == 255 and grown[11, 20] == 0
    shrunk = masks.shrink(mask, 2)
    assert shrunk[16, 20] == 0 and shrunk[17, 20] == 255
    assert masks.coverage(masks.invert(mask)) == pytest.approx(1 - masks.coverage(mask))
    soft = masks.feather(mask, 4)
    assert (soft[mask > 0] == 255).all()  # the hole itself never softens
    assert 0 < soft[20, 13] < 255 and soft[20, 5] == 0


def test_every_hole_pixel_belongs_to_exactly_one_region_with_its_context():
    mask = make_mask(200, 300)
    rng = np.random.default_rng(3)
    for y, x in rng.integers(0, (200, 300), size=(60, 2)):
        mask[y, x] = 255
    regions = regions_around_mask(mask, 8)
    owners = np.zeros(mask.shape, int)
    for region in regions:
        owners[region.box.slices] += region.holes
        assert region.hole_count > 0
    np.testing.assert_array_equal(owners, (mask > 0).astype(int))
    height, width = mask.shape
    for region in regions:  # each region's holes keep 8 px of context inside its box
        ys, xs = np.nonzero(region.holes)
        box = region.box
        assert ys.min() >= 8 or box.y0 == 0
        assert xs.min() >= 8 or box.x0 == 0
        assert ys.max() < box.height - 8 or box.y1 == height
        assert xs.max() < box.width - 8 or box.x1 == width


def test_distant_holes_are_separate_regions_even_inside_a_long_scratchs_box():
    mask = np.zeros((300, 300), np.uint8)
    mask[np.arange(300), np.arange(300)] = 255  # a diagonal scratch: its box is the whole image
    mask[250, 30] = 255  # dust far from the scratch
    mask[10, 12] = mask[10, 16] = 255  # dust close to the scratch joins it
    regions = regions_around_mask(mask, 8)
    assert len(regions) == 2
    assert sorted(r.hole_count for r in regions) == [1, 302]
    assert regions_around_mask(np.zeros((5, 5), np.uint8), 4) == []
