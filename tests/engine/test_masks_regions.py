import numpy as np
import pytest
from PIL import Image

from restorer_app.engine import masks
from restorer_app.engine.errors import MaskError
from restorer_app.engine.regions import Box, regions_around_mask

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


def test_holes_of_is_the_one_reading_of_a_mask_and_mask_of_gives_it_back():
    mask = np.array([[0, 1, 128], [255, 0, 7]], np.uint8)
    holes = masks.holes_of(mask)
    assert holes.dtype == bool
    np.testing.assert_array_equal(holes, [[False, True, True], [True, False, True]])
    np.testing.assert_array_equal(masks.mask_of(holes), [[0, 255, 255], [255, 0, 255]])
    assert masks.mask_of(holes).dtype == np.uint8
    np.testing.assert_array_equal(masks.invert(mask), masks.mask_of(~holes))


def test_box_arithmetic():
    box = Box(2, 3, 10, 8)
    assert (box.width, box.height, box.area, box.is_empty) == (8, 5, 40, False)
    assert Box(4, 4, 4, 9).is_empty and Box(4, 4, 4, 9).area == 0 and Box(5, 5, 3, 9).area == 0
    assert Box.full(6, 9) == Box(0, 0, 9, 6)
    assert Box(-3, -1, 12, 20).clipped(8, 10) == Box(0, 0, 10, 8)
    assert box.expanded(4, 10, 12) == Box(0, 0, 12, 10)
    assert box.intersection(Box(8, 0, 20, 4)) == Box(8, 3, 10, 4)
    assert box.intersection(Box(10, 3, 12, 8)) is None  # touching edges share no pixel
    assert box.union(Box(0, 7, 3, 12)) == Box(0, 3, 10, 12)
    assert box.fits(8, 10) and not box.fits(7, 10) and not Box(-1, 0, 2, 2).fits(8, 10)
    outer = Box(1, 2, 12, 9)
    image = np.arange(100 * 100).reshape(100, 100)
    np.testing.assert_array_equal(image[outer.slices][box.slices_within(outer)], image[box.slices])


@pytest.mark.parametrize("dtype", [np.uint8, bool, np.uint16, np.float32])
def test_box_around_holds_every_nonzero_pixel(dtype):
    mask = np.zeros((40, 50), dtype)
    assert Box.around(mask) is None
    mask[8, 30] = mask[22, 3] = 1
    assert Box.around(mask) == Box(3, 8, 31, 23)
    assert Box.around(mask[::2, ::3]) == Box(1, 4, 11, 12)  # a strided view, not only whole arrays


def test_a_scratch_across_a_large_scan_is_cut_into_bounded_regions_that_own_every_hole():
    import cv2
    import numpy as np

    from restorer_app.engine.regions import MAX_REGION_PIXELS, REGION_TILE, regions_around_mask

    height, width = 3000, 4000
    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (10, 10), (3990, 2990), 255, 5)  # one long diagonal scratch
    cv2.circle(mask, (3500, 400), 150, 255, -1)  # and a round loss, small enough to stay whole
    regions = regions_around_mask(mask, 32)
    owned = np.zeros((height, width), np.int32)
    for region in regions:
        assert region.box.width * region.box.height <= (REGION_TILE + 2 * 32 + 8) ** 2 or \
            region.box.width * region.box.height <= MAX_REGION_PIXELS
        owned[region.box.slices] += region.holes
    assert np.array_equal(owned > 0, mask > 0) and owned.max() == 1  # each hole pixel exactly once
    assert len(regions) > 4  # the scratch was cut up
    loss = [r for r in regions if r.box.x0 <= 3350 and r.box.x1 >= 3650 and r.box.y0 <= 250 and r.box.y1 >= 550]
    assert loss  # the round loss is one region with all its context
