"""The damage synthesiser, the detector network, its loss, export and evaluation measures."""

import numpy as np
import pytest
import torch

from models.damage import Damage, SynthConfig, synthesize
from models.detect_net import SIZE_MULTIPLE, DamageDetector, DetectorConfig, ProbabilityHead, count_parameters
from models.evaluate_detect import anchor_map, pooled
from models.train_detect import augment, detection_loss, tolerant_f1, to_tensors

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::FutureWarning")]


def photo(seed=0, size=128):
    """A smooth photo-like gradient with some texture (no damage of its own)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([0.3 + 0.4 * xx, 0.4 + 0.3 * yy, 0.5 - 0.2 * xx * yy], axis=2)
    texture = rng.normal(0, 0.01, (size, size, 1))
    return np.clip((base + texture) * 255, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", list(Damage))
def test_each_damage_type_marks_its_pixels_and_changes_the_photo_there(kind):
    rng = np.random.default_rng(int(kind))
    clean = photo(int(kind))
    aged = synthesize(clean, rng, only=(kind,))
    assert aged.image.shape == clean.shape and aged.image.dtype == np.uint8
    assert aged.mask.any(), f"{kind.name} left no mark"
    assert set(np.unique(aged.types)) <= {0, int(kind)}
    assert aged.mask.mean() < 0.6


def test_damage_changes_the_photo_more_inside_the_mask_than_outside():
    rng = np.random.default_rng(3)
    clean = photo(3, 192)
    changes_in, changes_out = [], []
    for kind in (Damage.SCRATCH, Damage.DUST, Damage.TEAR):
        aged = synthesize(clean, np.random.default_rng(7), only=(kind,))
        diff = np.abs(aged.image.astype(int) - clean.astype(int)).mean(axis=2)
        changes_in.append(diff[aged.mask].mean())
        changes_out.append(diff[~aged.mask].mean())
    assert all(i > o + 3 for i, o in zip(changes_in, changes_out)), (changes_in, changes_out)
    del rng


def test_clean_aged_photos_have_no_damage_but_are_changed():
    clean = photo(5)
    aged = synthesize(clean, np.random.default_rng(11), damaged=False)
    assert not aged.mask.any()
    assert np.abs(aged.image.astype(int) - clean.astype(int)).mean() > 0.5


def test_the_synthesiser_is_seeded():
    clean = photo(1)
    a = synthesize(clean, np.random.default_rng(42))
    b = synthesize(clean, np.random.default_rng(42))
    c = synthesize(clean, np.random.default_rng(43))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.types, b.types)
    assert not np.array_equal(a.image, c.image)


def test_damage_covers_a_realistic_share_of_the_pixels():
    rng = np.random.default_rng(0)
    shares = [synthesize(photo(i, 256), rng, SynthConfig(clean_share=0.0)).mask.mean() for i in range(12)]
    assert 0.003 < float(np.median(shares)) < 0.15


def test_the_default_detector_fits_the_budget_and_any_multiple_of_16():
    net = DamageDetector().eval()
    assert count_parameters(net) <= 2_000_000
    with torch.no_grad():
        for h, w in ((SIZE_MULTIPLE, SIZE_MULTIPLE * 3), (80, 48)):
            out = ProbabilityHead(net)(torch.rand(1, 3, h, w))
            assert out.shape == (1, 1, h, w)
            assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_the_loss_falls_on_a_fixed_batch_and_the_detector_finds_a_line():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images, types = [], []
    for i in range(4):
        aged = synthesize(photo(i, 64), rng, only=(Damage.SCRATCH,))
        images.append(aged.image)
        types.append(aged.types)
    x, y = to_tensors(np.stack(images), np.stack(types))
    net = DamageDetector(DetectorConfig(widths=(8, 8, 16, 16), deep_blocks=1))
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = detection_loss(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.5 * first


def test_augmentation_moves_the_mask_with_the_image():
    rng = np.random.default_rng(1)
    images = np.zeros((2, 8, 8, 3), np.uint8)
    types = np.zeros((2, 8, 8), np.uint8)
    images[:, 1, 2] = 255
    types[:, 1, 2] = 1
    for _ in range(6):
        a, t = augment(images, types, rng)
        assert np.array_equal(a[:, :, :, 0] == 255, t == 1)


def test_tolerant_scores_accept_a_one_pixel_shift_but_not_a_miss():
    truth = np.zeros((20, 20), bool)
    truth[10, 2:18] = True
    shifted = np.roll(truth, 1, axis=0)
    assert tolerant_f1(shifted, truth) == (1.0, 1.0, 1.0)
    far = np.roll(truth, 4, axis=0)
    assert tolerant_f1(far, truth)[2] == 0.0
    assert pooled([shifted, far], [truth, truth])["f1"] == pytest.approx(0.5)


def test_the_anchor_sees_a_speck_on_a_flat_photo():
    rgb = np.full((32, 32, 3), 120, np.uint8)
    rgb[15:17, 15:17] = 250
    assert anchor_map(rgb)[16, 16] > 100 and anchor_map(rgb)[2, 2] == 0


def test_export_matches_torch_and_the_app_runs_it(tmp_path):
    from models.export_detect import PARITY_TOLERANCE, export_onnx, manifest_entry, parity
    from restorer_app.engine.detection import detect_damage
    from restorer_app.engine.registry import ModelRegistry
    import json

    torch.manual_seed(0)
    net = ProbabilityHead(DamageDetector(DetectorConfig(widths=(8, 8, 16, 16), deep_blocks=1))).eval()
    path = tmp_path / "det.onnx"
    export_onnx(net, path, {"restorer.kind": "detect"})
    assert parity(net, path) <= PARITY_TOLERANCE
    entry = manifest_entry("det", "Test detector", "0.1", path, "Apache-2.0")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": [entry]}))
    registry = ModelRegistry([tmp_path])
    assert registry.problem(registry.get("det")) is None
    rgb = photo(2, 100)[:, :90]  # not a multiple of 16: the engine pads
    found = detect_damage(rgb, registry.open("det"))
    assert found.probability.shape == (100, 90) and found.probability.dtype == np.uint8
    with torch.no_grad():
        padded = np.pad(rgb, ((0, 12), (0, 6), (0, 0)), mode="reflect")
        expected = net(torch.from_numpy(padded).permute(2, 0, 1)[None].float() / 255)[0, 0, :100, :90].numpy()
    assert np.abs(found.probability.astype(float) - expected * 255).max() <= 2.0


def test_float16_weights_halve_the_file_and_stay_within_parity(tmp_path):
    from models.export_detect import HALF_PARITY_TOLERANCE, export_onnx, parity
    from models.half_weights import halve_weights

    torch.manual_seed(1)
    net = ProbabilityHead(DamageDetector(DetectorConfig(widths=(16, 16, 32, 32), deep_blocks=1))).eval()
    path = tmp_path / "det.onnx"
    export_onnx(net, path, {})
    full = path.stat().st_size
    assert halve_weights(path) > 0
    assert path.stat().st_size < 0.7 * full
    assert parity(net, path) <= HALF_PARITY_TOLERANCE
