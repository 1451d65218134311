"""The restoration synthesiser, network, loss and training pool."""

import numpy as np
import pytest
import torch

from models.crop_pool import CropPool, clock_lr
from models.degrade import BLUR_UNIT, NOISE_UNIT, add_noise, blur, degrade, jpeg
from models.restore_net import RestoreNet, RestorerConfig, ToneNet, apply_tone, count_parameters
from models.train_restore import load_weights, restore_loss, to_tensors, tone_samples

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]


def photo(seed=0, size=96):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.6 - 0.3 * xx], axis=2)
    edges = ((np.sin(xx * 25) > 0) * 0.15)[:, :, None]
    return np.clip((base + edges + rng.normal(0, 0.005, (size, size, 1))) * 255, 0, 255).astype(np.uint8)


def test_noise_level_is_what_was_added():
    rng = np.random.default_rng(0)
    flat = np.full((200, 200, 3), 0.5, np.float32)
    noisy, level = add_noise(flat, rng)
    measured = float((noisy - flat).std())
    assert level == pytest.approx(measured / NOISE_UNIT, rel=0.25)


def test_jpeg_level_follows_quality_and_blur_level_follows_sigma():
    rng = np.random.default_rng(3)
    image = photo(1).astype(np.float32) / 255
    levels = [jpeg(image, np.random.default_rng(s))[1] for s in range(20)]
    assert 0.0 < min(levels) and max(levels) <= 1.0
    blurred, level = blur(image, rng)
    assert 0 < level <= 4.5 / BLUR_UNIT
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(image, axis=1)).mean()


def test_clean_samples_are_untouched_and_fades_stay_in_the_target():
    clean = degrade(photo(2), np.random.default_rng(0), clean=True)
    assert np.array_equal(clean.image, clean.target) and not clean.levels.any()
    mixed = degrade(photo(2), np.random.default_rng(5), only="mix")
    assert (mixed.levels > 0).all()
    assert np.abs(mixed.image.astype(int) - mixed.target.astype(int)).mean() > 1
    fade = degrade(photo(2), np.random.default_rng(6), only="fade")
    assert np.array_equal(fade.target, photo(2)) and not fade.levels.any()


def test_degradation_is_seeded():
    a = degrade(photo(4), np.random.default_rng(9))
    b = degrade(photo(4), np.random.default_rng(9))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.levels, b.levels)


def test_network_fits_the_budget_and_starts_as_the_identity():
    net = RestoreNet().eval()
    assert count_parameters(net) <= 3_000_000
    image = torch.rand(1, 3, 48, 80)
    with torch.no_grad():
        restored, levels = net(image, torch.rand(1, 3, 48, 80))
    assert torch.equal(restored, image)  # a zero-initialised head: untrained = harmless
    assert levels.shape == (1, 3, 1, 1) and float(levels.min()) > 0 and float(levels.max()) < 1


def test_estimator_never_sees_the_strength():
    torch.manual_seed(0)
    net = RestoreNet(RestorerConfig(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), estimator_width=8)).eval()
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        _, a = net(image, torch.zeros(1, 3, 32, 32))
        _, b = net(image, torch.ones(1, 3, 32, 32))
    assert torch.equal(a, b)


def test_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    samples = [degrade(photo(i, 64), rng, only="noise") for i in range(4)]
    x, y, levels, strength = to_tensors(np.stack([s.image for s in samples]), np.stack([s.target for s in samples]),
                                        np.stack([s.levels for s in samples]), rng)
    net = RestoreNet(RestorerConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1), estimator_width=8))
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    first = None
    for _ in range(80):
        loss, _ = restore_loss(net, x, y, levels, strength)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.7 * first


def test_the_colour_step_learns_to_undo_fading_and_starts_as_the_identity():
    photos = [photo(i, 64) for i in range(6)]
    features, faded, truth = tone_samples(photos, repeats=30, clean_share=0.3, seed=0, side=64, pixels=256)
    assert features.shape == (180, 66) and faded.shape == truth.shape == (180, 256, 3)
    assert not torch.equal(faded, truth)  # most copies were faded or tinted
    torch.manual_seed(0)
    tone = ToneNet(width=32)
    assert torch.allclose(apply_tone(tone(features[:4]), faded[:4]), faded[:4], atol=1e-6)  # 0.5: unchanged
    before = float(((faded - truth) ** 2).mean())
    optimiser = torch.optim.Adam(tone.parameters(), lr=3e-3)
    for _ in range(300):
        loss = ((apply_tone(tone(features), faded) - truth) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(loss) < 0.5 * before


def test_a_checkpoint_from_before_the_colour_step_still_loads():
    config = RestorerConfig(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), estimator_width=8)
    old = {k: v for k, v in RestoreNet(config).state_dict().items() if not k.startswith("tone.")}
    load_weights(RestoreNet(config), old)
    with pytest.raises(KeyError):
        load_weights(RestoreNet(config), {k: v for k, v in old.items() if not k.startswith("head.")})


def test_crop_pool_fills_refreshes_and_closes():
    def factory():
        return lambda rng: (np.full((4, 4), int(rng.integers(1, 200)), np.uint8), np.float32(rng.random()))

    pool = CropPool(factory, 10, seed=0, producers=1)
    try:
        images, values = pool.batch(6)
        assert images.shape == (6, 4, 4) and values.shape == (6,)
        assert (images > 0).all()
        import time

        deadline = time.time() + 10
        while pool.refresh() == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert time.time() < deadline
    finally:
        pool.close()
    assert not any(p.is_alive() for p in pool.processes)


def test_clock_schedule_warms_up_and_anneals():
    assert clock_lr(1.0, 0, 0.0) < 0.01
    assert clock_lr(1.0, 1000, 0.0) == pytest.approx(1.0)
    assert clock_lr(1.0, 1000, 1.0) == pytest.approx(0.05)
    assert clock_lr(1.0, 1000, 0.5) == pytest.approx(0.525)


def test_export_matches_torch_and_the_app_restores_with_it(tmp_path):
    import json

    from models.evaluate_restore import psnr, ssim
    from models.export_restore import PARITY_TOLERANCE, export_onnx, manifest_entry, parity
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.registry import ModelRegistry
    from restorer_app.engine.restoration import RestoreOptions, open_restorer, restore

    torch.manual_seed(0)
    net = RestoreNet(RestorerConfig(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), estimator_width=8)).eval()
    with torch.no_grad():  # a head that changes the photo, so the comparison sees every layer
        torch.nn.init.normal_(net.head.weight, std=0.01)
    path = tmp_path / "restore.onnx"
    export_onnx(net, path, {"restorer.kind": "restore"})
    assert parity(net, path) <= PARITY_TOLERANCE
    entry = manifest_entry("res", "Test restorer", "0.1", path, "Apache-2.0")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": [entry]}))
    registry = ModelRegistry([tmp_path])
    assert registry.problem(registry.get("res")) is None
    rgb = photo(3, 80)
    result = restore(RasterImage(rgb, ImageInfo("PNG", 8)), open_restorer(registry), RestoreOptions(colour=False))
    assert result.pixels.shape == rgb.shape and result.pixels.dtype == np.uint8
    assert result.estimated_by == "model"
    # The colour step runs through the model's tone input; untrained, its curves are the identity.
    assert {s.name for s in registry.get("res").inputs} == {"image", "strength", "tone"}
    coloured = restore(RasterImage(rgb, ImageInfo("PNG", 8)), open_restorer(registry), RestoreOptions())
    assert coloured.colour and not coloured.colour_changed
    assert psnr(rgb, rgb) == 99.0 and ssim(rgb, rgb) == pytest.approx(1.0)
