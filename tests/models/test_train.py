"""The tiny configuration trains on generated images: loss falls, checkpoints resume."""

from pathlib import Path

import pytest
import torch

from models.dataset import fixed_batch
from models.losses import hole_l1, hole_log_mse, hole_psnr
from models.train import Trainer, TrainConfig, train

TINY = Path(__file__).resolve().parents[2] / "models" / "configs" / "tiny.yaml"


def tiny(**overrides) -> TrainConfig:
    return TrainConfig.load(TINY, [f"{k}={v}" for k, v in overrides.items()])


def test_loss_falls_on_a_fixed_batch():
    config = tiny(**{"loss.gan_start": 10**6, "optim.warmup": 5, "optim.schedule": "constant",
                     "optim.lr_generator": 4e-3})
    trainer = Trainer(config)
    batch = fixed_batch(config.data, "train", per_family=2)

    def loss() -> float:
        with torch.no_grad():
            return float(hole_l1(trainer.generator(batch["image"], batch["mask"], batch["text"]),
                                 batch["target"], batch["mask"]))

    before = loss()
    for _ in range(100):
        trainer.train_step(batch)
    after = loss()
    assert after < 0.85 * before, (before, after)


def test_log_mse_loss_is_minus_hole_psnr_and_trains():
    torch.manual_seed(0)
    target, output = torch.rand(3, 3, 16, 16), torch.rand(3, 3, 16, 16)
    mask = torch.zeros(3, 1, 16, 16)
    mask[:, :, 4:12, 4:12] = 1
    outside = output.clone()
    outside[:, :, :4] = 5.0  # errors outside the hole do not count
    expected = -(hole_psnr(output, target, mask) * torch.log(torch.tensor(10.0)) / 10).mean()
    assert torch.allclose(hole_log_mse(output, target, mask, floor=0.0), expected, atol=1e-5)
    assert torch.allclose(hole_log_mse(outside, target, mask), hole_log_mse(output, target, mask))
    config = tiny(**{"loss.gan_start": 10**6, "loss.l1_hole": 0.0, "loss.log_mse_hole": 1.0})
    logs = Trainer(config).train_step(fixed_batch(config.data, "train", per_family=1))
    assert logs["loss"] == pytest.approx(logs["log_mse"]) and logs["log_mse"] < 0


def test_gan_phase_runs_and_stays_finite():
    config = tiny(**{"loss.gan_start": 0, "loss.r1_every": 1})
    trainer = Trainer(config)
    batch = fixed_batch(config.data, "train", per_family=1)
    logs = [trainer.train_step(batch) for _ in range(3)]
    assert all(k in logs[-1] for k in ("d", "adv", "fm", "r1"))
    assert all(torch.isfinite(torch.tensor(list(entry.values()))).all() for entry in logs)


def test_gan_stop_ends_the_adversarial_phase():
    config = tiny(**{"loss.gan_start": 0, "loss.gan_stop": 2, "loss.r1_every": 1})
    trainer = Trainer(config)
    batch = fixed_batch(config.data, "train", per_family=1)
    logs = [trainer.train_step(batch) for _ in range(3)]
    assert "adv" in logs[1] and "adv" not in logs[2] and "d" not in logs[2]


def test_a_spiking_batch_is_skipped():
    config = tiny(**{"loss.gan_start": 10**6, "optim.warmup": 2})
    trainer = Trainer(config)
    batch = fixed_batch(config.data, "train", per_family=1)
    trainer.step, trainer.l1_mean = 10, 1e-6  # pretend the running L1 was tiny
    before = [p.clone() for p in trainer.generator.parameters()]
    logs = trainer.train_step(batch)
    assert logs.get("skipped") == 1.0
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))


def test_train_writes_checkpoints_with_config_and_resumes(tmp_path):
    train(tiny(steps=4), tmp_path, quiet=True)
    checkpoints = tmp_path / "checkpoints"
    assert (checkpoints / "last.pt").is_file()
    assert (checkpoints / "step_0000004.yaml").is_file() and (tmp_path / "config.yaml").is_file()
    assert TrainConfig.load(checkpoints / "step_0000004.yaml").steps == 4
    trainer = train(tiny(steps=6), tmp_path, quiet=True)
    assert trainer.step == 6
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3 and '"val_blobs"' in lines[-1]


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match="Unknown setting"):
        tiny(**{"optim.learning_rate": 1e-3})
    with pytest.raises(ValueError, match="budget"):
        Trainer(tiny(**{"generator.widths": "[64, 128, 256, 384]", "generator.dilations": "[1, 2, 4, 8, 1, 2, 4, 8]"}))


def test_validation_scores_fills_without_a_description_and_reports_what_captions_do():
    config = tiny()
    trainer = Trainer(config)
    with torch.no_grad():  # make the text path matter, as in a trained network
        torch.nn.init.normal_(trainer.ema.text_colour.weight, std=0.5)
    batch = fixed_batch(config.data, "val", per_family=2)
    batch["text"] = torch.zeros_like(batch["text"])
    batch["text"][::2] = torch.randn(batch["text"][::2].shape)  # every other sample has a caption
    scores = trainer.validate(batch)
    silent = trainer.ema(batch["image"], batch["mask"], torch.zeros_like(batch["text"])).float()
    blobs = batch["family"] == 2
    expected = float(hole_psnr(silent, batch["target"], batch["mask"])[blobs].mean())
    assert scores["val_blobs"] == pytest.approx(expected, abs=0.05)
    assert {f"caption_{f}" for f in ("scratches", "strokes", "blobs")} <= set(scores)
    assert any(abs(scores[f"caption_{f}"]) > 1e-3 for f in ("scratches", "strokes", "blobs"))
