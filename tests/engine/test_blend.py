import cv2
import numpy as np

from restorer_app.engine.blend import harmonize_fill, match_tone, seam_score

from factories import make_photo


def _hole(height=120, width=160):
    hole = np.zeros((height, width), np.uint8)
    cv2.circle(hole, (80, 60), 25, 1, -1)
    cv2.line(hole, (10, 100), (150, 110), 1, 3)
    return hole.astype(bool)


def test_a_tinted_fill_is_matched_to_its_surroundings_without_touching_outside():
    photo = make_photo(120, 160).astype(np.float32) / 255
    hole = _hole()
    tinted = photo.copy()
    tinted[hole] = np.clip(photo[hole] + np.array([0.12, -0.05, 0.08], np.float32), 0, 1)
    fixed = harmonize_fill(photo, tinted, hole)
    np.testing.assert_array_equal(fixed[~hole], tinted[~hole])
    assert np.abs(fixed - photo)[hole].mean() < 0.5 * np.abs(tinted - photo)[hole].mean()
    assert seam_score(tinted, hole) > 1.5
    assert abs(seam_score(fixed, hole) - seam_score(photo, hole)) < 0.3


def test_a_good_fill_stays_good():
    photo = make_photo(120, 160).astype(np.float32) / 255
    hole = _hole()
    fixed = harmonize_fill(photo, photo.copy(), hole)
    assert np.abs(fixed - photo)[hole].max() < 0.08 and np.abs(fixed - photo)[hole].mean() < 0.02
    assert harmonize_fill(photo, photo, np.zeros_like(hole)).tolist() == photo.tolist()


def test_soft_edge_fades_inside_the_hole_and_never_outside():
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry

    photo = make_photo(120, 160, 3, np.uint16)
    mask = _hole().astype(np.uint8) * 255
    inpainter = Inpainter(ModelRegistry([]))
    raster = RasterImage(photo, ImageInfo("TIFF", 16))
    hard = inpainter.inpaint(raster, mask, InpaintRequest(method="telea")).pixels
    soft = inpainter.inpaint(raster, mask, InpaintRequest(method="telea", feather=4)).pixels
    np.testing.assert_array_equal(soft[mask == 0], photo[mask == 0])
    distance = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    deep = distance > 5
    np.testing.assert_array_equal(soft[deep], hard[deep])  # the middle is all fill
    edge = (mask > 0) & (distance < 1.5)
    to_original = np.abs(soft[edge].astype(int) - photo[edge]).mean()
    to_fill = np.abs(soft[edge].astype(int) - hard[edge]).mean()
    assert to_original < to_fill  # at the edge the original dominates


def _sepia(luma):
    """A sepia toning curve: warm, brighter channels lead."""
    return np.stack([np.clip(luma * 1.12 + 0.02, 0, 1), luma * 0.98, luma * 0.78], axis=2).astype(np.float32)


def test_a_cast_in_a_fill_on_a_sepia_or_grey_scan_takes_the_photos_tone():
    rng = np.random.default_rng(0)
    luma = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 6)
    luma = (luma - luma.min()) / (luma.max() - luma.min()) * 0.8 + 0.1
    hole = np.zeros((120, 160), bool)
    hole[40:80, 50:110] = True
    for photo in (_sepia(luma), np.repeat(luma[..., None], 3, axis=2)):
        cast = photo.copy()
        cast[hole] += np.array([-0.04, 0.0, 0.05], np.float32)  # a bluish fill, as a model can give
        out = match_tone(photo, cast, hole)
        np.testing.assert_array_equal(out[~hole], cast[~hole])
        assert np.abs(out[hole] - photo[hole]).max() < 0.02  # the cast is gone, the tone is the photo's
        brightness = lambda rgb: rgb @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
        assert np.abs(brightness(out[hole]) - brightness(cast[hole])).max() < 0.01  # brightness kept


def test_colour_photos_keep_the_fills_colours():
    photo = make_photo(120, 160).astype(np.float32) / 255.0
    hole = np.zeros((120, 160), bool)
    hole[40:80, 50:110] = True
    fill = photo.copy()
    fill[hole] = fill[hole][:, ::-1]  # any colours at all
    np.testing.assert_array_equal(match_tone(photo, fill, hole), fill)


def test_a_flat_grey_surrounding_keeps_the_fills_brightness():
    """One brightness around the hole says nothing about other brightnesses: no extrapolation."""
    photo = np.full((60, 80, 3), 0.5, np.float32)
    hole = np.zeros((60, 80), bool)
    hole[20:40, 30:50] = True
    fill = photo.copy()
    fill[hole] = (0.15, 0.2, 0.3)
    out = match_tone(photo, fill, hole)
    brightness = float(np.array([0.15, 0.2, 0.3]) @ np.array([0.299, 0.587, 0.114]))
    np.testing.assert_allclose(out[hole], brightness, atol=1e-4)  # grey, at the fill's brightness


def _telea_fills(photo, mask, feather):
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry

    inpainter = Inpainter(ModelRegistry([]))
    raster = RasterImage(photo, ImageInfo("PNG", 8))
    return [inpainter.inpaint(raster, mask, InpaintRequest(method="telea", feather=f)).pixels for f in (0, feather)]


def test_a_soft_edge_never_blends_the_scratch_under_a_stroke_back_in():
    photo = make_photo(120, 160)
    photo[60:64] = 20  # a dark 4 px scratch across a light photo
    mask = np.zeros((120, 160), np.uint8)
    cv2.line(mask, (20, 66), (140, 66), 255, 30)  # painted by hand: 30 px, the scratch off its middle
    hard, soft = _telea_fills(photo, mask, feather=12)
    scratch = np.zeros((120, 160), bool)
    scratch[60:64, 30:130] = True
    assert (mask[scratch] > 0).all()
    np.testing.assert_array_equal(soft[scratch], hard[scratch])  # the fill's pixels, not the scratch's
    np.testing.assert_array_equal(soft[mask == 0], photo[mask == 0])
    edge = (mask > 0) & (cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5) < 1.5)
    assert (soft[edge] != hard[edge]).any()  # it still softens the stroke's edge


def test_a_soft_edge_fades_over_its_full_width_in_a_wide_hole():
    from restorer_app.engine.blend import soft_edge_weight

    hole = np.zeros((200, 200), bool)
    cv2.circle(hole.view(np.uint8), (100, 100), 60, 1, -1)
    weight = soft_edge_weight(hole, 12)
    distance = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
    assert 0.4 < weight[(distance > 5.5) & (distance < 6.5)].mean() < 0.55  # halfway at 6 of 12 px
    assert (weight[distance > 13] == 1).all() and (weight[~hole] == 0).all()
