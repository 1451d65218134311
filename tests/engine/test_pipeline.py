import cv2
import numpy as np
import pytest

from restorer_app.engine.errors import MaskError, OperationCancelled
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.progress import RecordingProgress
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import Device

from factories import build_tiny_inpaint_model, make_mask, make_photo, tiny_entry, write_manifest


def _raster(pixels):
    return RasterImage(pixels, ImageInfo("PNG", 16 if pixels.dtype == np.uint16 else 8))


@pytest.fixture
def classical_only():
    return Inpainter(ModelRegistry([]))


@pytest.mark.parametrize("method, flag", [("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)])
def test_classical_fill_equals_opencv_on_the_whole_image(classical_only, method, flag):
    photo, mask = make_photo(150, 200), np.zeros((150, 200), np.uint8)
    cv2.line(mask, (10, 10), (60, 40), 255, 3)  # a scratch, a blob and dust: several regions
    cv2.circle(mask, (150, 100), 14, 255, -1)
    mask[[20, 130, 140], [180, 20, 100]] = 255
    result = classical_only.inpaint(_raster(photo), mask, InpaintRequest(method=method))
    np.testing.assert_array_equal(result.pixels, cv2.inpaint(photo, mask, 3, flag))
    assert result.changed_pixels == np.count_nonzero(mask)
    assert result.regions == 5


@pytest.mark.parametrize("channels, dtype", [(1, np.uint8), (2, np.uint8), (3, np.uint16), (4, np.uint16), (1, np.uint16)])
@pytest.mark.parametrize("method", ["telea", "ns"])
def test_outside_the_mask_every_pixel_is_bit_identical(classical_only, channels, dtype, method):
    photo, mask = make_photo(90, 110, channels, dtype), make_mask(90, 110)
    result = classical_only.inpaint(_raster(photo), mask, InpaintRequest(method=method))
    keep = mask == 0
    assert result.pixels.dtype == dtype and result.pixels.shape == photo.shape
    np.testing.assert_array_equal(result.pixels[keep], photo[keep])
    assert not np.array_equal(result.pixels[~keep], photo[~keep])
    if channels in (2, 4):
        np.testing.assert_array_equal(result.pixels[..., -1], photo[..., -1])


def test_sixteen_bit_fill_uses_full_precision(classical_only):
    photo, mask = make_photo(60, 60, 3, np.uint16), make_mask(60, 60)
    filled = classical_only.inpaint(_raster(photo), mask, InpaintRequest(method="telea")).pixels[mask > 0]
    assert np.any(filled % 257 != 0)  # not 8-bit values scaled up


def test_empty_mask_returns_the_input_unchanged(classical_only):
    photo = make_photo(30, 30)
    result = classical_only.inpaint(_raster(photo), np.zeros((30, 30), np.uint8), InpaintRequest())
    np.testing.assert_array_equal(result.pixels, photo)
    assert result.changed_pixels == 0 and result.regions == 0


def test_mask_of_another_size_is_refused(classical_only):
    with pytest.raises(MaskError, match="size"):
        classical_only.inpaint(_raster(make_photo(30, 30)), np.zeros((30, 31), np.uint8), InpaintRequest())


def test_progress_is_reported_per_region_and_cancel_stops_between_regions(classical_only):
    photo = make_photo(100, 400)
    mask = np.zeros((100, 400), np.uint8)
    for x in range(10, 400, 40):
        mask[40:45, x:x + 5] = 255
    progress = RecordingProgress()
    classical_only.inpaint(_raster(photo), mask, InpaintRequest(method="telea"), progress)
    fractions = [f for f, _ in progress.reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum("Region" in m for _, m in progress.reports) == 10

    cancelling = RecordingProgress(cancel_after=3)
    with pytest.raises(OperationCancelled):
        classical_only.inpaint(_raster(photo), mask, InpaintRequest(method="telea"), cancelling)
    assert sum("Region" in m for _, m in cancelling.reports) == 2


def test_auto_without_models_uses_telea_and_prompt_is_noted(classical_only):
    photo, mask = make_photo(40, 40), make_mask(40, 40)
    result = classical_only.inpaint(_raster(photo), mask, InpaintRequest(prompt="clear sky"))
    assert result.method_id == "telea"
    assert any("description" in n for n in result.notices)


def test_large_scan_strategy_on_a_smaller_synthetic_scan(classical_only):
    """The 60 MP strategy (benchmarks/large_scan.py) at 1600x1200: many regions, each a
    progress step and a cancel point, and the same pixels as OpenCV on the whole scan."""
    rng = np.random.default_rng(5)
    scan = make_photo(1200, 1600, 3, np.uint16)
    mask = np.zeros((1200, 1600), np.uint8)
    for _ in range(6):
        x = int(rng.uniform(0, 1600))
        cv2.line(mask, (x, 0), (x + int(rng.normal(0, 60)), 1199), 255, 3)
    for _ in range(400):
        cv2.circle(mask, (int(rng.uniform(0, 1600)), int(rng.uniform(0, 1200))), int(rng.integers(1, 4)), 255, -1)
    cv2.ellipse(mask, (400, 300), (90, 50), 30, 0, 360, 255, -1)
    progress = RecordingProgress()
    result = classical_only.inpaint(_raster(scan), mask, InpaintRequest(method="ns"), progress)
    assert result.regions > 100
    whole = np.dstack([cv2.inpaint(np.ascontiguousarray(scan[..., c]), mask, 3, cv2.INPAINT_NS) for c in range(3)])
    np.testing.assert_array_equal(result.pixels, whole)
    region_reports = [f for f, m in progress.reports if m.startswith("Region")]
    assert len(region_reports) == result.regions and region_reports == sorted(region_reports)

    halfway = RecordingProgress(cancel_after=result.regions // 2)
    with pytest.raises(OperationCancelled):
        classical_only.inpaint(_raster(scan), mask, InpaintRequest(method="ns"), halfway)
    assert len([m for _, m in halfway.reports if m.startswith("Region")]) < result.regions


def _scratches_and_a_tear(height=600, width=800):
    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (100, 0), (140, height - 1), 255, 3)  # a hairline scratch
    for k in range(20):  # dust, away from the tear
        cv2.circle(mask, (200 + 13 * k, 80 + 11 * k), 2, 255, -1)
    cv2.ellipse(mask, (560, 420), (70, 45), 20, 0, 360, 255, -1)  # a torn area
    return mask


def test_a_job_still_over_budget_gives_wider_strips_to_navier_stokes_too(tiny_model_folder, monkeypatch):
    from restorer_app.engine import pipeline
    from restorer_app.engine.regions import regions_around_mask

    photo = make_photo(600, 800)
    tear = np.zeros((600, 800), np.uint8)
    cv2.ellipse(tear, (560, 420), (70, 45), 20, 0, 360, 255, -1)
    strip = np.zeros_like(tear)
    cv2.line(strip, (100, 40), (300, 560), 255, 11)  # 11 px: thick at THIN_RADIUS, thin at the large-job radius
    mask = tear | strip
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    method, _ = inpainter.resolve(InpaintRequest())
    tear_cost = sum(method.input_pixels(r, 600, 800) for r in regions_around_mask(tear, method.context_margin))
    monkeypatch.setitem(pipeline.AUTO_MODEL_BUDGET, Device.CPU, tear_cost + 100)  # the tear fits, the strip not
    split = inpainter.inpaint(_raster(photo), mask, InpaintRequest())
    assert split.classical_pixels == int((strip > 0).sum())
    assert any("up to about 16 px wide" in n for n in split.notices)
    within = inpainter.inpaint(_raster(photo), tear, InpaintRequest())
    np.testing.assert_array_equal(split.pixels[tear > 0], within.pixels[tear > 0])  # the tear is the model's
    np.testing.assert_array_equal(split.pixels[mask == 0], photo[mask == 0])

    # With room for it, the strip is the model's as before.
    monkeypatch.setitem(pipeline.AUTO_MODEL_BUDGET, Device.CPU, 10 * tear_cost)
    roomy = inpainter.inpaint(_raster(photo), mask, InpaintRequest())
    assert roomy.classical_pixels == 0


def test_thick_holes_keep_tears_and_drop_scratches_and_dust():
    from restorer_app.engine.regions import regions_around_mask, thick_holes

    mask = _scratches_and_a_tear()
    thick = thick_holes(mask, regions_around_mask(mask, 32), radius=5.0)
    tear = np.zeros_like(mask)
    cv2.ellipse(tear, (560, 420), (70, 45), 20, 0, 360, 255, -1)
    np.testing.assert_array_equal(thick, tear)


def test_auto_over_budget_gives_thin_damage_to_navier_stokes(tiny_model_folder, monkeypatch):
    from restorer_app.engine import pipeline

    photo = make_photo(600, 800)
    mask = _scratches_and_a_tear()
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    within = inpainter.inpaint(_raster(photo), mask, InpaintRequest())
    assert within.classical_pixels == 0 and not any("Thin scratches and dust" in n for n in within.notices)

    monkeypatch.setitem(pipeline.AUTO_MODEL_BUDGET, Device.CPU, 10_000)
    split = inpainter.inpaint(_raster(photo), mask, InpaintRequest())
    tear = np.zeros_like(mask)
    cv2.ellipse(tear, (560, 420), (70, 45), 20, 0, 360, 255, -1)
    thin = (mask > 0) & (tear == 0)
    assert split.classical_pixels == int(thin.sum())
    assert split.changed_pixels == int((mask > 0).sum())
    assert "Navier-Stokes" in split.method_label and any("Thin scratches and dust" in n for n in split.notices)
    # The tear is the model's fill (identical to the in-budget run), the thin damage is NS.
    np.testing.assert_array_equal(split.pixels[tear > 0], within.pixels[tear > 0])
    ns = cv2.inpaint(photo, mask, 3, cv2.INPAINT_NS)
    assert np.abs(split.pixels[thin].astype(int) - ns[thin]).mean() < np.abs(within.pixels[thin].astype(int) - ns[thin]).mean()
    np.testing.assert_array_equal(split.pixels[mask == 0], photo[mask == 0])

    # Naming the model explicitly uses it everywhere, whatever the cost.
    explicit = inpainter.inpaint(_raster(photo), mask, InpaintRequest(method="tiny"))
    assert explicit.classical_pixels == 0
    np.testing.assert_array_equal(explicit.pixels, within.pixels)


def test_colour_matching_pulls_a_tinted_fill_towards_its_surroundings(tiny_model_folder):
    # The tiny model adds a constant tint inside the hole: matching must take most of it away.
    photo = make_photo(120, 160)
    mask = make_mask(120, 160)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    ns = cv2.inpaint(photo, mask, 3, cv2.INPAINT_NS).astype(float)
    inside = mask > 0
    tinted = inpainter.inpaint(_raster(photo), mask, InpaintRequest(method="tiny")).pixels
    matched = inpainter.inpaint(_raster(photo), mask, InpaintRequest(method="tiny", harmonize=True))
    shift = lambda out: abs((out[inside].astype(float) - ns[inside]).mean())  # noqa: E731
    assert shift(matched.pixels) < 0.5 * shift(tinted)
    np.testing.assert_array_equal(matched.pixels[~inside], photo[~inside])
    classical = inpainter.inpaint(_raster(photo), mask, InpaintRequest(method="ns", harmonize=True))
    assert any("Colour matching applies to learned fills" in n for n in classical.notices)


def test_a_scratch_running_out_of_a_tear_is_thin_outside_it():
    from restorer_app.engine.regions import regions_around_mask, thick_holes

    tear = np.zeros((400, 400), np.uint8)
    cv2.circle(tear, (200, 200), 50, 255, -1)
    mask = tear.copy()
    cv2.line(mask, (200, 0), (200, 399), 255, 3)  # one long scratch through the tear
    thick = thick_holes(mask, regions_around_mask(mask, 32), radius=5.0)
    assert np.array_equal(thick > 0, (tear > 0) | ((thick > 0) & (mask > 0)))  # never outside the holes
    assert (thick[tear > 0] > 0).all()
    outside = (mask > 0) & (cv2.dilate(tear, np.ones((21, 21), np.uint8)) == 0)
    assert outside.sum() > 500 and not (thick[outside] > 0).any()


def test_thick_holes_blend_a_half_resolution_run_into_their_middle(tiny_model_folder, monkeypatch):
    """Near the border of a tear the full-resolution fill is kept; deep inside it the fill
    comes from a run at half size (which sees twice as far). Thin scratches skip that run."""
    from restorer_app.engine import methods

    calls = []

    def fake_run(self, rgb, hole, embedding, latent_rng=None):
        calls.append(hole.shape)
        level = 0.8 if len(calls) == 3 else 0.2  # the full-size run and its mirror, then the half-size one
        return np.where(hole[:, :, None] > 0, level, rgb).astype(np.float32)

    monkeypatch.setattr(methods.OnnxFill, "_run", fake_run)
    photo = np.full((300, 400, 3), 128, np.uint8)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    tear = np.zeros((300, 400), np.uint8)
    cv2.circle(tear, (200, 150), 80, 255, -1)
    out = inpainter.inpaint(_raster(photo), tear, InpaintRequest(method="tiny", grain=0.0)).pixels
    assert len(calls) == 3
    full, mirrored, half = calls
    assert mirrored == full
    assert abs(half[0] - full[0] / 2) <= 1 and abs(half[1] - full[1] / 2) <= 1
    assert abs(int(out[150, 200, 0]) - round(0.8 * 255)) <= 2  # the middle: the half-size run
    assert abs(int(out[150, 121, 0]) - round(0.2 * 255)) <= 8  # one pixel in: the full-size run
    middle_ring = int(out[150, 200 - 80 + 24, 0])  # halfway through the hand-over
    assert round(0.2 * 255) + 20 < middle_ring < round(0.8 * 255) - 20
    np.testing.assert_array_equal(out[tear == 0], photo[tear == 0])

    calls.clear()
    scratch = np.zeros((300, 400), np.uint8)
    cv2.line(scratch, (20, 30), (380, 260), 255, 5)
    inpainter.inpaint(_raster(photo), scratch, InpaintRequest(method="tiny", grain=0.0))
    assert len(calls) == 2  # the full-size run and its mirror

    # The auto budget counts what a thick hole costs on top (the same box with only a 1-pixel
    # outline of the tear as its hole is thin): a half-size run, an eighth of the two full-size ones.
    from restorer_app.engine.regions import regions_around_mask
    from restorer_app.engine.runtime import Device

    fill = methods.OnnxFill(ModelRegistry([tiny_model_folder]).open("tiny", Device.CPU))
    (torn,) = regions_around_mask(tear, fill.context_margin)
    as_thin = methods.Region(torn.box, torn.holes & (cv2.erode(tear, np.ones((3, 3), np.uint8))[torn.box.slices] == 0))
    assert fill.input_pixels(torn, 300, 400) == fill.input_pixels(as_thin, 300, 400) * 9 // 8
    single = methods.OnnxFill(fill.model, mirror=False)
    assert single.input_pixels(as_thin, 300, 400) * 2 == fill.input_pixels(as_thin, 300, 400)


def test_a_quick_request_runs_the_model_once_per_scale(tiny_model_folder, monkeypatch):
    """``quick`` skips the mirror-image run: a thin scratch costs one run, a tear two (full
    size and half size). (What the auto budget counts without the mirror run is checked in
    the half-resolution test above.)"""
    from restorer_app.engine import methods

    calls = []

    def fake_run(self, rgb, hole, embedding, latent_rng=None):
        calls.append(hole.shape)
        return np.where(hole[:, :, None] > 0, 0.5, rgb).astype(np.float32)

    monkeypatch.setattr(methods.OnnxFill, "_run", fake_run)
    photo = np.full((300, 400, 3), 128, np.uint8)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    scratch = np.zeros((300, 400), np.uint8)
    cv2.line(scratch, (20, 30), (380, 260), 255, 5)
    inpainter.inpaint(_raster(photo), scratch, InpaintRequest(method="tiny", grain=0.0, quick=True))
    assert len(calls) == 1
    calls.clear()
    tear = np.zeros((300, 400), np.uint8)
    cv2.circle(tear, (200, 150), 80, 255, -1)
    out = inpainter.inpaint(_raster(photo), tear, InpaintRequest(method="tiny", grain=0.0, quick=True)).pixels
    assert len(calls) == 2 and calls[1][0] < calls[0][0]
    np.testing.assert_array_equal(out[tear == 0], photo[tear == 0])
    method, _ = inpainter.resolve(InpaintRequest(method="tiny", quick=True))
    assert method.mirror is False
    assert inpainter.resolve(InpaintRequest(method="tiny"))[0].mirror is True


def test_the_full_size_run_is_averaged_with_its_mirror_image(tiny_model_folder, monkeypatch):
    """A fill that leans one way (here: brighter to the right, in the network's own view) is
    averaged with the fill of the mirrored crop, flipped back, so the lean cancels."""
    from restorer_app.engine import methods

    def leaning_run(self, rgb, hole, embedding, latent_rng=None):
        ramp = np.broadcast_to(np.linspace(0.0, 1.0, hole.shape[1], dtype=np.float32)[None, :, None], rgb.shape)
        return np.where(hole[:, :, None] > 0, ramp, rgb).astype(np.float32)

    monkeypatch.setattr(methods.OnnxFill, "_run", leaning_run)
    photo = np.full((120, 200, 3), 128, np.uint8)
    scratch = np.zeros((120, 200), np.uint8)
    scratch[58:61, 10:190] = 255  # thin: only the full-size runs
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    out = inpainter.inpaint(_raster(photo), scratch, InpaintRequest(method="tiny", grain=0.0)).pixels
    row = out[59, 10:190, 0].astype(int)
    assert abs(row - 128).max() <= 2  # 0.5 everywhere along the line: the two leans cancel

    monkeypatch.setattr(methods, "MIRROR_ENSEMBLE", False)
    out = inpainter.inpaint(_raster(photo), scratch, InpaintRequest(method="tiny", grain=0.0)).pixels
    assert out[59, 185, 0] - out[59, 15, 0] > 150  # one run alone keeps its lean


def test_each_model_run_of_a_fill_is_a_progress_step_and_a_cancel_point(tiny_model_folder, monkeypatch):
    """A tear is run at full size, on its mirror image and at half size: each run is reported
    (within the region's share of the job) and the job can stop between them."""
    from restorer_app.engine import methods

    calls = []
    real_run = methods.OnnxFill._run

    def counted_run(self, rgb, hole, embedding, latent_rng=None):
        calls.append(hole.shape)
        return real_run(self, rgb, hole, embedding)

    monkeypatch.setattr(methods.OnnxFill, "_run", counted_run)
    photo = make_photo(300, 400)
    tear = np.zeros((300, 400), np.uint8)
    cv2.circle(tear, (200, 150), 80, 255, -1)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    progress = RecordingProgress()
    inpainter.inpaint(_raster(photo), tear, InpaintRequest(method="tiny", grain=0.0), progress)
    runs = [(f, m) for f, m in progress.reports if m.startswith("Model run")]
    assert [m for _, m in runs] == ["Model run at full size", "Model run on the mirror image",
                                    "Model run at half size"]
    fractions = [f for f, _ in progress.reports]
    assert fractions == sorted(fractions) and 0 < runs[0][0] < runs[1][0] < runs[2][0] == 1.0
    assert len(calls) == 3

    calls.clear()
    cancelling = RecordingProgress(cancel_after=2)  # "Filling 1 region(s)", then the full-size run
    with pytest.raises(OperationCancelled):
        inpainter.inpaint(_raster(photo), tear, InpaintRequest(method="tiny", grain=0.0), cancelling)
    assert len(calls) == 1 and cancelling.reports[-1][1] == "Model run at full size"


def test_a_described_fill_reports_both_of_its_fills(tiny_model_folder, monkeypatch):
    """A described tear is filled twice (with and without the description); both fills' runs
    are steps of the one progress, and a cancel stops the second fill too."""
    from restorer_app.engine import methods

    monkeypatch.setattr(Inpainter, "embed_prompt", lambda self, prompt, size: (np.ones(size, np.float32), None))
    build_tiny_inpaint_model(tiny_model_folder / "t.onnx", with_text=True)
    entry = tiny_entry(tiny_model_folder, "t.onnx", "text-tiny", text_embedding_size=4)
    entry["inputs"].append({"name": "text", "dtype": "float32", "layout": "NC", "channels": 4})
    write_manifest(tiny_model_folder, [entry])
    calls = []
    real_run = methods.OnnxFill._run
    monkeypatch.setattr(methods.OnnxFill, "_run", lambda self, *a: calls.append(1) or real_run(self, *a))
    photo = make_photo(300, 400)
    tear = np.zeros((300, 400), np.uint8)
    cv2.circle(tear, (200, 150), 80, 255, -1)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    request = InpaintRequest(method="text-tiny", prompt="clear sky", grain=0.0)
    progress = RecordingProgress()
    inpainter.inpaint(_raster(photo), tear, request, progress)
    runs = [f for f, m in progress.reports if m.startswith("Model run")]
    assert len(runs) == 6 == len(calls) and runs == sorted(runs) and runs[2] == pytest.approx(0.5)
    calls.clear()
    with pytest.raises(OperationCancelled):
        inpainter.inpaint(_raster(photo), tear, request, RecordingProgress(cancel_after=5))
    assert len(calls) == 4  # cancelled in the middle of the fill without the description


@pytest.fixture(scope="module")
def shipped():
    """The app's own default: ``auto`` with the bundled text-capable model and encoder."""
    from restorer_app.engine.registry import bundled_models_folder

    return Inpainter(ModelRegistry([bundled_models_folder()]))


def _brown_photo(height=200, width=280):
    """A warm brown print with soft shading, like the scans the description went blue on."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    luma = 0.45 + 0.15 * np.sin(xx / 37.0) * np.cos(yy / 29.0)
    return np.clip(np.stack([luma * 1.15, luma * 0.9, luma * 0.65], axis=2) * 255, 0, 255).astype(np.uint8)


def test_a_description_never_colours_a_brush_stroke(shipped):
    from restorer_app.engine import masks

    photo = _raster(_brown_photo())
    stroke = np.zeros((200, 280), np.uint8)
    cv2.line(stroke, (20, 40), (260, 170), 255, 24)  # the default brush ...
    stroke = masks.grow(stroke, 3)  # ... grown by 3 px: 30 px wide
    plain = shipped.inpaint(photo, stroke, InpaintRequest(prompt=""))
    described = shipped.inpaint(photo, stroke, InpaintRequest(prompt="clear blue sky"))
    assert plain.model is not None and plain.model.uses_text  # the learned model ran, not a fallback
    np.testing.assert_array_equal(described.pixels, plain.pixels)  # not a blue-grey stripe
    assert any("description was not used" in n and "wider than about 64 px" in n for n in described.notices)


def test_a_description_steers_a_large_area_and_the_notice_says_where(shipped):
    photo = _raster(_brown_photo())
    mask = np.zeros((200, 280), np.uint8)
    cv2.circle(mask, (90, 100), 55, 255, -1)  # a torn area, 110 px across
    cv2.line(mask, (170, 20), (260, 180), 255, 30)  # and a stroke beside it
    plain = shipped.inpaint(photo, mask, InpaintRequest(prompt="")).pixels.astype(int)
    result = shipped.inpaint(photo, mask, InpaintRequest(prompt="clear blue sky"))
    described = result.pixels.astype(int)
    area, line = np.zeros_like(mask), np.zeros_like(mask)
    cv2.circle(area, (90, 100), 30, 255, -1)
    cv2.line(line, (170, 20), (260, 180), 255, 30)
    inside = area > 0
    assert np.abs(described[inside] - plain[inside]).mean() > 1  # the description is followed there
    np.testing.assert_array_equal(described[line > 0], plain[line > 0])
    assert any("used inside the areas wider than about 64 px" in n for n in result.notices)
