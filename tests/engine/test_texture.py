import cv2
import numpy as np
import pytest

from restorer_app.engine.grain import fine_detail, match_grain
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.texture import match_texture

from factories import make_photo


def _wood(size=192, angle=30.0, seed=0):
    """A wood-like texture: fine streaks at ``angle`` degrees with a wandering phase, on a
    smooth gradient; a round hole in the middle; and the photo's own coarse band as the 'fill'
    (what a perfect but smooth fill gives)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    theta = np.deg2rad(angle)
    across = x * np.sin(theta) - y * np.cos(theta)  # constant along the streaks
    wander = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 6) * 40
    streaks = 0.06 * np.sin(2 * np.pi * across / 5.0 + wander)
    base = np.stack([0.45 + 0.2 * x / size, 0.30 + 0.1 * y / size, 0.18 + 0.05 * x / size], axis=2)
    photo = np.clip(base + streaks[..., None], 0, 1).astype(np.float32)
    hole = np.zeros((size, size), np.uint8)
    cv2.circle(hole, (size // 2, size // 2), size // 5, 1, -1)
    smooth = cv2.GaussianBlur(photo, (0, 0), 3.0)
    return photo, smooth, hole.astype(bool)


def _interior(hole, margin=6):
    return cv2.erode(hole.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)).astype(bool)


def _energy(rgb, where):
    return float((fine_detail(rgb)[where] ** 2).mean())


def _orientation(rgb, where):
    """(coherence, angle in degrees of the gradients) of the fine detail's structure tensor,
    summed over ``where``: 1 = one direction everywhere, 0 = none."""
    luma = fine_detail(rgb).mean(axis=2)
    gx, gy = cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = (float(v[where].sum()) for v in (gx * gx, gy * gy, gx * gy))
    coherence = np.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy)
    return coherence, np.rad2deg(0.5 * np.arctan2(2 * jxy, jxx - jyy)) % 180


def test_only_the_hole_changes_and_the_seed_decides_the_texture():
    photo, smooth, hole = _wood()
    fill = np.where(hole[..., None], smooth, photo)
    first = match_texture(photo, fill, hole, 0.6, np.random.default_rng(3))
    again = match_texture(photo, fill, hole, 0.6, np.random.default_rng(3))
    other = match_texture(photo, fill, hole, 0.6, np.random.default_rng(4))
    np.testing.assert_array_equal(first[~hole], fill[~hole])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[hole], other[hole])
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_the_photos_texture_is_carried_into_the_hole_with_its_direction():
    """Copied detail has the photo's streaks, in their direction; noise with the photo's
    spectrum (the random-phase grain) has its energy but no direction."""
    photo, smooth, hole = _wood(angle=30.0)
    inside, around = _interior(hole), ~cv2.dilate(hole.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    out = match_texture(photo, smooth, hole, 1.0, np.random.default_rng(0))
    grain = match_grain(photo, smooth, hole, 1.0, np.random.default_rng(0))
    assert _energy(smooth, inside) < 0.02 * _energy(photo, around)  # the plain fill has none
    assert _energy(out, inside) > 0.4 * _energy(photo, around)
    coherence, angle = _orientation(out, inside)
    photo_coherence, photo_angle = _orientation(photo, around)
    assert photo_coherence > 0.6
    assert coherence > 0.6 * photo_coherence
    assert abs((angle - photo_angle + 90) % 180 - 90) < 15
    assert _orientation(grain, inside)[0] < 0.5 * coherence
    # Only the fine band was added: the fill's colours and shapes stay.
    assert np.abs(cv2.GaussianBlur(out, (0, 0), 4)[inside] - smooth[inside]).max() < 0.03


def test_a_hole_with_no_photo_around_it_falls_back_and_changes_nothing_outside():
    photo, smooth, _ = _wood(size=96)
    almost_all = np.ones(photo.shape[:2], bool)
    almost_all[:, :3] = False  # a 3 px strip of photo: no patch fits in it
    fill = np.where(almost_all[..., None], smooth, photo)
    out = match_texture(photo, fill, almost_all, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out[~almost_all], fill[~almost_all])
    np.testing.assert_array_equal(out, match_texture(photo, fill, almost_all, 1.0, np.random.default_rng(0)))
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    everything = np.ones(photo.shape[:2], bool)
    np.testing.assert_array_equal(match_texture(photo, smooth, everything, 1.0, np.random.default_rng(0)), smooth)


def test_hairlines_and_zero_strength_are_left_alone():
    photo, smooth, hole = _wood()
    hairline = np.zeros(photo.shape[:2], bool)
    hairline[20:22, 10:150] = True  # 2 px wide
    fill = np.where(hairline[..., None], smooth, photo)
    np.testing.assert_array_equal(match_texture(photo, fill, hairline, 1.0, np.random.default_rng(0)), fill)
    np.testing.assert_array_equal(match_texture(photo, smooth, hole, 0.0, np.random.default_rng(0)), smooth)


def test_holes_far_apart_do_not_change_each_other_and_only_targets_get_texture():
    photo, smooth, hole = _wood()
    wide = np.concatenate([photo, np.zeros_like(photo), photo], axis=1)
    wide_fill = np.concatenate([smooth, np.zeros_like(smooth), smooth], axis=1)
    left = np.zeros(wide.shape[:2], bool)
    left[:, :192] = hole
    both = left.copy()
    both[:, 384:] = hole
    alone = match_texture(wide, np.where(left[..., None], wide_fill, wide), left, 1.0, np.random.default_rng(2))
    fill = np.where(both[..., None], wide_fill, wide)
    together = match_texture(wide, fill, both, 1.0, np.random.default_rng(2))
    np.testing.assert_array_equal(together[left], alone[left])
    only_left = match_texture(wide, fill, both, 1.0, np.random.default_rng(2), targets=left)
    np.testing.assert_array_equal(only_left[both & ~left], fill[both & ~left])


def test_a_hole_in_a_corner_of_the_crop_gets_texture():
    photo, smooth, _ = _wood()
    corner = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(corner, [np.array([[0, 0], [110, 0], [0, 90]], np.int32)], 1)
    corner = corner.astype(bool)
    out = match_texture(photo, smooth, corner, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out[~corner], smooth[~corner])
    assert _energy(out, _interior(corner)) > 0.3 * _energy(photo, ~cv2.dilate(
        corner.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool))


def test_a_grey_scan_gets_grey_texture():
    photo, smooth, hole = _wood()
    grey = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2)
    grey_fill = np.repeat(smooth.mean(axis=2, keepdims=True), 3, axis=2)
    out = match_texture(grey, grey_fill, hole, 1.0, np.random.default_rng(0))
    assert _energy(out, _interior(hole)) > 0.3 * _energy(grey, ~hole)
    assert np.abs(out[hole] - out[hole].mean(axis=1, keepdims=True)).max() < 1e-5


@pytest.mark.parametrize("channels, dtype", [(1, np.uint16), (2, np.uint8), (3, np.uint16), (4, np.uint8)])
def test_learned_fills_get_texture_in_every_layout_and_nothing_outside_changes(tiny_model_folder, channels, dtype):
    rng = np.random.default_rng(0)
    photo = make_photo(120, 160, channels, dtype).astype(np.float64)
    top = 65535 if dtype == np.uint16 else 255
    streaks = 0.05 * top * np.sin(np.arange(160) / 1.3)[None, :, None]
    colour = min(channels, 3) if channels != 2 else 1
    photo[..., :colour] += streaks + rng.normal(0, 0.02 * top, (120, 160, 1))
    photo = np.clip(photo, 0, top).astype(dtype)
    mask = np.zeros((120, 160), np.uint8)
    cv2.circle(mask, (80, 60), 25, 255, -1)
    raster = RasterImage(photo, ImageInfo("PNG", 16 if dtype == np.uint16 else 8))
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    plain = inpainter.inpaint(raster, mask, InpaintRequest(method="tiny", grain=0.0)).pixels
    textured = inpainter.inpaint(raster, mask, InpaintRequest(method="tiny", grain=1.0)).pixels
    again = inpainter.inpaint(raster, mask, InpaintRequest(method="tiny", grain=1.0)).pixels
    assert textured.dtype == dtype and textured.shape == photo.shape
    np.testing.assert_array_equal(textured[mask == 0], photo[mask == 0])
    np.testing.assert_array_equal(textured, again)
    if channels in (2, 4):
        np.testing.assert_array_equal(textured[..., -1], photo[..., -1])
    as_float = lambda p: np.repeat(p[..., :1], 3, axis=2) if colour == 1 else p[..., :3]  # noqa: E731
    inside = _interior(mask > 0)
    energy = lambda p: _energy(as_float(p).astype(np.float32) / top, inside)  # noqa: E731
    assert energy(textured) > 3 * energy(plain)
    if dtype == np.uint16:
        assert np.any(textured[mask > 0] % 257 != 0)  # 16-bit detail, not 8-bit values scaled up


def test_no_patch_touching_a_kept_out_pixel_is_ever_a_source(monkeypatch):
    from restorer_app.engine import texture

    photo, smooth, hole = _wood()
    kept_out = np.zeros(hole.shape, bool)
    kept_out[:, : hole.shape[1] // 2] = True  # the left half, e.g. a face beside the hole
    seen = []
    real_sources = texture._sources

    def recording(allowed, *args):
        sy, sx = real_sources(allowed, *args)
        seen.append((allowed.copy(), sy, sx))
        return sy, sx

    monkeypatch.setattr(texture, "_sources", recording)
    out = match_texture(photo, smooth, hole, 1.0, np.random.default_rng(0), no_source=kept_out)
    assert seen and not np.array_equal(out, smooth)  # texture was still added, from the right half
    for allowed, sy, sx in seen:
        assert sy.size > 0
        for y, x in zip(sy, sx):
            patch = (slice(y, y + texture.PATCH), slice(x, x + texture.PATCH))
            assert allowed[patch].all()
    allowed = seen[0][0]
    assert allowed.shape == hole.shape  # the hole's window is the whole test photo here
    assert not (allowed & kept_out).any() and allowed[:, hole.shape[1] // 2 + 1:].any()


def test_keeping_every_source_out_leaves_only_grain_and_is_recorded():
    from restorer_app.engine.errors import MaskError
    from restorer_app.engine.provenance import operation_for

    photo = make_photo(160, 200)
    mask = np.zeros((160, 200), np.uint8)
    mask[60:100, 80:120] = 255
    image = RasterImage(photo, ImageInfo(format="PNG", bit_depth=8))
    inpainter = Inpainter()
    everything = np.full((160, 200), 255, np.uint8)
    request = InpaintRequest(no_source=everything)
    result = inpainter.inpaint(image, mask, request)
    assert result.model is not None
    assert operation_for(result, request, mask).no_source_pixels == 160 * 200
    assert operation_for(result, InpaintRequest(), mask).no_source_pixels == 0
    with pytest.raises(MaskError, match="kept out of copying"):
        inpainter.inpaint(image, mask, InpaintRequest(no_source=np.zeros((10, 10), np.uint8)))
