"""The strategy layer: crops, scaling, padding, tiles and their blend."""

import numpy as np
import pytest

from restorer_app.engine import strategy
from restorer_app.engine.regions import Box


@pytest.mark.parametrize("height, width, tile, overlap", [(100, 100, 100, 8), (37, 301, 64, 16), (515, 333, 128, 32),
                                                         (10, 7, 64, 16)])
def test_tiles_cover_the_image_and_overlap_their_neighbours(height, width, tile, overlap):
    boxes = strategy.tiles(height, width, tile, overlap)
    covered = np.zeros((height, width), int)
    for box in boxes:
        assert 0 < box.width <= tile and 0 < box.height <= tile
        covered[box.slices] += 1
    assert (covered >= 1).all()
    starts_x = sorted({b.x0 for b in boxes})
    ends_x = sorted({b.x1 for b in boxes})
    for end, start in zip(ends_x[:-1], starts_x[1:]):
        assert end - start >= overlap  # neighbours share at least the overlap


def test_a_tile_no_larger_than_its_overlap_is_refused():
    with pytest.raises(ValueError, match="overlap"):
        strategy.tiles(100, 100, 16, 16)


def test_tile_weights_are_one_inside_and_at_the_border_and_never_zero():
    boxes = strategy.tiles(200, 300, 128, 32)
    for box in boxes:
        weight = strategy.tile_weight(box, 200, 300, 32)
        assert weight.shape == (box.height, box.width) and (weight > 0).all() and weight.max() == 1.0
    first = strategy.tile_weight(boxes[0], 200, 300, 32)
    assert first[0, 0] == 1.0  # the photo's corner: no neighbour to fade into
    assert first[0, -1] < 0.05 and first[-1, 0] < 0.05  # edges shared with neighbours fade


def _grid(height, width, channels=3):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([(yy * 7 + xx * 3 + c * 11) % 97 / 96 for c in range(channels)], axis=2).astype(np.float32)


def test_an_identity_over_tiles_gives_the_input_back_and_a_constant_has_no_seams():
    image = _grid(203, 157)
    same = strategy.run_tiled({"image": image}, lambda t: {"output": t["image"]}, tile=64, overlap=16)["output"]
    np.testing.assert_allclose(same, image, atol=1e-6)
    shifted = strategy.run_tiled({"image": image}, lambda t: {"output": t["image"] + 0.125}, 64, 16)["output"]
    np.testing.assert_allclose(shifted - image, 0.125, atol=1e-6)


def test_padding_reaches_the_multiple_and_mirrors_where_it_can():
    rgb = _grid(13, 21)
    hole = np.zeros((13, 21, 1), np.float32)
    padded_rgb, padded_hole = strategy.pad_to_multiple([rgb, hole], 8)
    assert padded_rgb.shape == (16, 24, 3) and padded_hole.shape == (16, 24, 1)
    np.testing.assert_array_equal(padded_rgb[:13, :21], rgb)
    np.testing.assert_array_equal(padded_rgb[13, :21], rgb[11])  # reflected
    (tiny,) = strategy.pad_to_multiple([_grid(3, 5)], 8)
    np.testing.assert_array_equal(tiny[7], tiny[2])  # too small to mirror: the edge repeats


def test_context_box_and_scaling_follow_the_work():
    box = strategy.context_box(Box(100, 100, 180, 140), 32, 1000, 1000)
    assert box == Box(68, 68, 212, 172)  # a quarter of 80 is under the margin
    assert strategy.context_box(Box(0, 0, 400, 100), 32, 300, 1000) == Box(0, 0, 500, 200)
    assert strategy.fit_scale(2048, 1024, 1024) == 0.5 and strategy.fit_scale(100, 100, 1024) == 1.0
    assert strategy.scaled_size(2048, 10, 0.5) == (8, 1024)  # (width, height), never under 8 px
    assert strategy.padded_side(1021, 8) == 1024 and strategy.padded_side(5, 1) == 5


def _fill_reach_case(changed_box: Box) -> tuple[np.ndarray, np.ndarray, Box]:
    """The bundled models' auto fill of one hole on a photo, and on the same photo with the
    pixels of ``changed_box`` changed (another step's work); and the reach of the hole."""
    from factories import make_photo
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter

    photo = make_photo(200, 640, seed=3)
    mask = np.zeros((200, 640), np.uint8)
    mask[80:130, 480:540] = 255  # deep enough for the learned fill
    changed = photo.copy()
    changed[changed_box.slices] = 255 - changed[changed_box.slices]
    inpainter = Inpainter()
    request = InpaintRequest(seed=0)
    fills = [inpainter.inpaint(RasterImage(pixels, ImageInfo(format="PNG", bit_depth=8)), mask, request).pixels
             for pixels in (photo, changed)]
    return fills[0], fills[1], strategy.fill_reach(Box(480, 80, 540, 130), 200, 640)


def test_a_fill_reads_nothing_outside_its_reach():
    reach = strategy.fill_reach(Box(480, 80, 540, 130), 200, 640)
    outside = Box(40, 60, reach.x0 - 1, 160)  # everything left of the reach, changed
    plain, other, _ = _fill_reach_case(outside)
    hole = (slice(80, 130), slice(480, 540))
    assert np.array_equal(plain[hole], other[hole])


def test_a_fill_does_read_what_lies_inside_its_reach():
    # Proof the check above could fail: pixels next to the hole change the fill.
    plain, other, reach = _fill_reach_case(Box(440, 70, 478, 140))
    assert reach.x0 < 440
    hole = (slice(80, 130), slice(480, 540))
    assert not np.array_equal(plain[hole], other[hole])
