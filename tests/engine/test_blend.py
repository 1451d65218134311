import cv2
import numpy as np

from restorer_app.engine.blend import harmonize_fill, seam_score

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
