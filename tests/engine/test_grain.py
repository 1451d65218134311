import cv2
import numpy as np
import pytest

from restorer_app.engine.grain import fine_detail, match_grain
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.provenance import operation_for
from restorer_app.engine.registry import ModelRegistry

from factories import make_photo


def _grainy_scene(size=160, grain=0.04, seed=0):
    """A smooth gradient with film-like grain, a round hole in the middle, and a 'fill' that is
    the gradient without grain (what a good but smooth fill gives)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    smooth = np.stack([0.3 + 0.4 * x, 0.4 + 0.2 * y, 0.5 - 0.2 * x], axis=2)
    noise = cv2.GaussianBlur(rng.normal(0, grain, (size, size)).astype(np.float32), (0, 0), 0.6)
    photo = np.clip(smooth + noise[..., None], 0, 1).astype(np.float32)
    hole = np.zeros((size, size), np.uint8)
    cv2.circle(hole, (size // 2, size // 2), size // 5, 1, -1)
    return photo, smooth.astype(np.float32), hole.astype(bool)


def _energy(rgb, where):
    return float((fine_detail(rgb)[where] ** 2).mean())


def _interior(hole, margin=6):
    return cv2.erode(hole.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)).astype(bool)


@pytest.mark.parametrize("strength", [0.35, 1.0])
def test_the_fill_gets_the_share_of_the_surroundings_grain_asked_for(strength):
    photo, smooth, hole = _grainy_scene()
    ring = cv2.dilate(hole.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool) & ~cv2.dilate(
        hole.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    out = match_grain(photo, smooth, hole, strength, np.random.default_rng(1))
    inside = _interior(hole)
    assert _energy(smooth, inside) < 0.02 * _energy(photo, ring)  # the plain fill had none
    ratio = _energy(out, inside) / _energy(photo, ring)
    assert strength * 0.7 < ratio < strength * 1.3
    # Only the fine band was added: the fill's local means (its colours and shapes) stay.
    assert np.abs(cv2.GaussianBlur(out, (0, 0), 4)[inside] - smooth[inside]).max() < 0.02


def test_nothing_outside_the_hole_changes_and_the_seed_decides_the_grain():
    photo, smooth, hole = _grainy_scene()
    fill = np.where(hole[..., None], smooth, photo)
    first = match_grain(photo, fill, hole, 0.5, np.random.default_rng(3))
    again = match_grain(photo, fill, hole, 0.5, np.random.default_rng(3))
    other = match_grain(photo, fill, hole, 0.5, np.random.default_rng(4))
    np.testing.assert_array_equal(first[~hole], fill[~hole])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[hole], other[hole])



def test_unmasked_dust_around_the_hole_is_not_copied_into_it():
    """Specks nobody painted over sit in the ring the grain comes from; the fill must get the
    film grain, not copies of the specks (a restorer would have to clean them up again)."""
    photo, smooth, hole = _grainy_scene()
    rng = np.random.default_rng(5)
    ring = cv2.dilate(hole.astype(np.uint8), np.ones((61, 61), np.uint8)).astype(bool) & ~cv2.dilate(
        hole.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    ys, xs = np.nonzero(ring)
    dusty = photo.copy()
    for i in rng.choice(ys.size, 8, replace=False):  # dark specks, 3 px across
        cv2.circle(dusty, (int(xs[i]), int(ys[i])), 1, (0.02, 0.02, 0.02), -1)
    for seed in range(5):
        out = match_grain(dusty, smooth, hole, 1.0, np.random.default_rng(seed))
        added = (out - smooth)[hole]
        assert np.abs(added).max() < 0.2  # a copied speck adds about -0.4
        ratio = _energy(out, _interior(hole)) / _energy(photo, ring)
        assert ratio > 0.5  # the grain itself still came

def test_hairlines_detailed_fills_and_holes_without_context_are_left_alone():
    photo, smooth, _ = _grainy_scene()
    hairline = np.zeros(photo.shape[:2], bool)
    hairline[20:22, 10:150] = True  # 2 px wide
    fill = np.where(hairline[..., None], smooth, photo)
    np.testing.assert_array_equal(match_grain(photo, fill, hairline, 1.0, np.random.default_rng(0)), fill)
    _, _, hole = _grainy_scene()
    np.testing.assert_array_equal(match_grain(photo, photo, hole, 0.5, np.random.default_rng(0)), photo)
    everything = np.ones(photo.shape[:2], bool)
    np.testing.assert_array_equal(match_grain(photo, smooth, everything, 1.0, np.random.default_rng(0)), smooth)
    np.testing.assert_array_equal(match_grain(photo, smooth, hole, 0.0, np.random.default_rng(0)), smooth)


def test_a_three_pixel_scratch_through_grain_gets_grain():
    """A smooth line through a grainy (or leafy) area stays visible whatever fills it."""
    photo, smooth, _ = _grainy_scene()
    scratch = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(scratch, (10, 30), (150, 130), 1, 3)
    scratch = scratch.astype(bool)
    out = match_grain(photo, np.where(scratch[..., None], smooth, photo), scratch, 1.0, np.random.default_rng(0))
    core = cv2.distanceTransform(scratch.astype(np.uint8), cv2.DIST_L2, 5) >= 2
    assert float(((out - smooth)[core] ** 2).mean()) > 0.3 * _energy(photo, ~scratch)


def test_learned_fills_get_grain_classical_fills_do_not(tiny_model_folder):
    photo = make_photo(120, 160)
    rng = np.random.default_rng(0)
    photo = np.clip(photo.astype(int) + rng.normal(0, 12, photo.shape[:2])[..., None], 0, 255).astype(np.uint8)
    mask = np.zeros((120, 160), np.uint8)
    cv2.circle(mask, (80, 60), 25, 255, -1)
    raster = RasterImage(photo, ImageInfo("PNG", 8))
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    plain = inpainter.inpaint(raster, mask, InpaintRequest(method="tiny", grain=0.0))
    grainy = inpainter.inpaint(raster, mask, InpaintRequest(method="tiny", grain=1.0))
    inside = _interior(mask > 0)
    as_float = lambda p: p.astype(np.float32) / 255  # noqa: E731
    assert _energy(as_float(grainy.pixels), inside) > 3 * _energy(as_float(plain.pixels), inside)
    np.testing.assert_array_equal(grainy.pixels[mask == 0], photo[mask == 0])
    assert operation_for(grainy, InpaintRequest(method="tiny", grain=1.0), mask).grain == 1.0
    telea = [inpainter.inpaint(raster, mask, InpaintRequest(method="telea", grain=g)) for g in (0.0, 1.0)]
    np.testing.assert_array_equal(telea[0].pixels, telea[1].pixels)
    assert operation_for(telea[1], InpaintRequest(method="telea", grain=1.0), mask).grain == 0.0


def test_grain_outside_zero_to_one_is_refused(tiny_model_folder):
    from restorer_app.engine.errors import RestorerError

    photo, mask = make_photo(40, 40), np.zeros((40, 40), np.uint8)
    mask[10:20, 10:20] = 255
    with pytest.raises(RestorerError, match="Grain"):
        Inpainter(ModelRegistry([tiny_model_folder])).inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask,
                                                              InpaintRequest(method="tiny", grain=1.5))


def test_each_hole_takes_the_grain_around_it_and_what_lies_far_away_changes_nothing():
    """A scan's crop holds torn areas far apart, over film of different grain, and scratches:
    every hole gets its own surroundings' grain, and other holes change nothing in it."""
    photo, smooth, hole = _grainy_scene()
    near_scene = np.zeros((160, 520, 3), np.float32)
    near_scene[:, :160], near_scene[:, 160:] = photo, photo.mean(axis=(0, 1))
    fill_alone = near_scene.copy()
    fill_alone[:, :160] = np.where(hole[..., None], smooth, photo)
    holes_alone = np.zeros((160, 520), bool)
    holes_alone[:, :160] = hole
    # The same crop with a coarser-grained area far to the right, its own hole, and a thin
    # scratch between them.
    coarse, coarse_smooth, _ = _grainy_scene(grain=0.12, seed=9)
    scene, fill, holes = near_scene.copy(), fill_alone.copy(), holes_alone.copy()
    scene[:, 360:], holes[:, 360:] = coarse, hole
    fill[:, 360:] = np.where(hole[..., None], coarse_smooth, coarse)
    scratch = np.zeros((160, 520), np.uint8)
    cv2.line(scratch, (250, 0), (270, 159), 1, 3)
    holes |= scratch.astype(bool)
    fill[scratch > 0] = 0.5
    alone = match_grain(near_scene, fill_alone, holes_alone, 1.0, np.random.default_rng(2))
    both = match_grain(scene, fill, holes, 1.0, np.random.default_rng(2))
    np.testing.assert_array_equal(both[:, :160][hole], alone[:, :160][hole])
    inside = _interior(hole)
    left, right = _energy(both[:, :160], inside), _energy(both[:, 360:], inside)
    assert right > 4 * left  # the coarse film's hole got the coarse grain


def test_only_the_holes_asked_for_get_grain():
    """A region's crop also holds its neighbours' holes; another crop fills those."""
    photo, smooth, hole = _grainy_scene()
    other = np.zeros_like(hole)
    other[10:22, 10:60] = True
    holes = hole | other
    fill = np.where(holes[..., None], smooth, photo)
    out = match_grain(photo, fill, holes, 1.0, np.random.default_rng(0), targets=hole)
    np.testing.assert_array_equal(out[other], fill[other])
    assert _energy(out, _interior(hole)) > 0.5 * _energy(photo, ~holes)


def test_a_hole_between_fine_and_coarse_grain_gets_each_where_it_borders_it():
    """A long tear across two kinds of surface (sky and gravel, say) is as busy at each end as
    the photo next to that end."""
    rng = np.random.default_rng(7)
    height, width = 200, 360
    strength = np.where(np.arange(width) < width // 2, 0.09, 0.02).astype(np.float32)[None, :, None]
    photo = np.clip(0.5 + strength * rng.normal(0, 1, (height, width, 1)).astype(np.float32), 0, 1)
    photo = np.repeat(photo, 3, axis=2).astype(np.float32)
    hole = np.zeros((height, width), np.uint8)
    cv2.ellipse(hole, (width // 2, height // 2), (150, 25), 0, 0, 360, 1, -1)
    hole = hole.astype(bool)
    smooth = np.where(hole[..., None], np.float32(0.5), photo)
    out = match_grain(photo, smooth, hole, 1.0, np.random.default_rng(0))
    inside = _interior(hole)
    columns = np.arange(width)[None, :].repeat(height, axis=0)
    left, right = _energy(out, inside & (columns < 90)), _energy(out, inside & (columns > 270))
    assert left > 4 * right
    assert 0.4 < left / _energy(photo, ~hole & (columns < 90)) < 1.6


def test_a_grey_scan_gets_grey_grain():
    photo, smooth, hole = _grainy_scene()
    grey = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2)
    grey_fill = np.repeat(smooth.mean(axis=2, keepdims=True), 3, axis=2)
    out = match_grain(grey, grey_fill, hole, 1.0, np.random.default_rng(0))
    assert _energy(out, _interior(hole)) > 0.5 * _energy(grey, ~hole)
    assert np.abs(out[hole] - out[hole].mean(axis=1, keepdims=True)).max() < 2e-3
