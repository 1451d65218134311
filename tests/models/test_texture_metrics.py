"""hole-SSIM and texture distance mean what the evaluation table says they mean."""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.evaluate import markdown, score
from models.texture_metrics import (hole_ssim, mean_of_finite, shifted_fill, ssim_map, texture_distance,
                                    texture_parts)

SIZE = 128


def textured(seed: int = 0, size: int = SIZE) -> np.ndarray:
    """Oriented sinusoids of a few periods plus seeded fine noise, as 8-bit RGB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    luma = np.full((size, size), 128.0)
    for period, angle, amplitude in ((9.0, 0.3, 30.0), (5.0, 1.9, 18.0), (17.0, 2.6, 25.0)):
        luma += amplitude * np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period + rng.uniform(0, 6))
    luma += rng.normal(0.0, 6.0, luma.shape)
    rgb = np.stack([luma * 1.05, luma, luma * 0.9], axis=2)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def square_hole(size: int = SIZE, start: int = 32, stop: int = 96) -> np.ndarray:
    hole = np.zeros((size, size), bool)
    hole[start:stop, start:stop] = True
    return hole


def filled(truth: np.ndarray, hole: np.ndarray, content: np.ndarray) -> np.ndarray:
    out = truth.copy()
    out[hole] = content[hole]
    return out


def test_a_perfect_fill_scores_ssim_one_and_distance_zero():
    truth, hole = textured(), square_hole()
    assert hole_ssim(truth.copy(), truth, hole) == pytest.approx(1.0, abs=1e-9)
    assert texture_distance(truth.copy(), truth, hole) == 0.0


def test_a_blurred_fill_loses_ssim_and_texture_while_a_shifted_copy_keeps_the_texture():
    truth, hole = textured(), square_hole()
    blurred = filled(truth, hole, cv2.GaussianBlur(truth, (0, 0), 2.0))
    shifted = shifted_fill(truth, hole, 3)
    assert hole_ssim(blurred, truth, hole) < 0.8
    assert texture_distance(shifted, truth, hole) < 0.1
    assert texture_distance(blurred, truth, hole) > 0.5
    assert texture_distance(blurred, truth, hole) > 5 * texture_distance(shifted, truth, hole)


def test_white_noise_raises_the_texture_distance():
    truth, hole = textured(), square_hole()
    rng = np.random.default_rng(7)
    noisy = filled(truth, hole, np.clip(truth + rng.normal(0, 25, truth.shape), 0, 255).astype(np.uint8))
    assert texture_distance(noisy, truth, hole) > 0.3
    assert hole_ssim(noisy, truth, hole) < 0.9
    parts = texture_parts(noisy, truth, hole)
    assert parts.laplacian > 0.3  # noise is all fine detail
    assert parts.distance == pytest.approx((parts.gradient + parts.laplacian + parts.coherence) / 3)


def test_pixels_beyond_the_windows_reach_do_not_change_either_measure():
    truth, hole = textured(), square_hole()
    fill = filled(truth, hole, cv2.GaussianBlur(truth, (0, 0), 1.5))
    far = ~cv2.dilate(hole.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)  # 8 px and more away
    changed = fill.copy()
    changed[far] = textured(seed=5)[far]
    assert hole_ssim(changed, truth, hole) == hole_ssim(fill, truth, hole)
    assert texture_distance(changed, truth, hole) == texture_distance(fill, truth, hole)
    # and the truth's far pixels do not matter either: only the hole's statistics are compared
    other_truth = truth.copy()
    other_truth[far] = 0
    other_fill = fill.copy()
    other_fill[far] = 0
    assert texture_distance(other_fill, other_truth, hole) == texture_distance(fill, truth, hole)


def test_a_hole_too_small_to_measure_gives_nan_and_averages_skip_it():
    truth = textured()
    speck = np.zeros((SIZE, SIZE), bool)
    speck[60:63, 60:63] = True  # one pixel after the erosion
    line = np.zeros((SIZE, SIZE), bool)
    line[40:42, 10:120] = True  # a 2 px scratch: nothing after the erosion
    fill = cv2.GaussianBlur(truth, (0, 0), 2.0)
    for hole in (speck, line):
        assert math.isnan(texture_distance(filled(truth, hole, fill), truth, hole))
        assert math.isfinite(hole_ssim(filled(truth, hole, fill), truth, hole))
    assert math.isnan(hole_ssim(truth, truth, np.zeros((SIZE, SIZE), bool)))
    assert mean_of_finite([0.2, float("nan"), 0.4]) == pytest.approx(0.3)
    assert mean_of_finite([float("nan")]) is None


def test_the_ssim_map_is_scikit_images_gaussian_ssim_on_luma():
    from skimage.metrics import structural_similarity

    truth = textured()
    result = cv2.GaussianBlur(truth, (0, 0), 1.2)
    gray = [cv2.cvtColor(a.astype(np.float32), cv2.COLOR_RGB2GRAY).astype(np.float64) for a in (result, truth)]
    _, expected = structural_similarity(gray[1], gray[0], gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=255, full=True)
    inner = (slice(8, -8), slice(8, -8))
    np.testing.assert_allclose(ssim_map(result, truth)[inner], expected[inner], atol=1e-4)


def test_the_evaluation_scores_and_tabulates_both_measures():
    truth, hole = textured(), square_hole()
    mask = np.where(hole, 255, 0).astype(np.uint8)
    blurred = score(filled(truth, hole, cv2.GaussianBlur(truth, (0, 0), 2.0)), truth, mask)
    perfect = score(truth.copy(), truth, mask)
    assert perfect.texture == 0.0 and perfect.hole_ssim == pytest.approx(1.0)
    assert blurred.texture > 0.5 and blurred.hole_ssim < 0.8

    def row(psnr, **extra):
        return {"psnr": psnr, "ssim": 0.8, "sharpness": 0.5, "seam": 1.1, "count": 3, **extra}

    result = {"model": "m", "photos": ["a"], "long_side": 512, "masks_per_photo": 3, "seed": 0, "threads": 2,
              "median_seconds_512": 0.1, "steering": None,
              "families": {"blobs": {"telea": row(20.0, hole_ssim=0.41, texture=1.234, texture_count=3),
                                     "ns": row(20.5, hole_ssim=0.43, texture=None, texture_count=0),
                                     "m": row(21.0),  # a result file written before these measures
                                     "original": {"seam": 1.0}}}}
    table = markdown(result)
    assert "| hole-SSIM | texture distance |" in table
    assert "| blobs | Telea | 20.00 |  | 0.410 | 1.23 | 0.800 |" in table
    assert "| blobs | Navier-Stokes | 20.50 |  | 0.430 |  | 0.800 |" in table
    assert "| blobs | m | 21.00 | +0.50 |  |  | 0.800 |" in table


def test_the_training_validation_logs_both_measures_of_the_fill_without_a_description():
    import torch

    from models.dataset import fixed_batch
    from models.train import Trainer, TrainConfig

    config = TrainConfig.load(Path(__file__).resolve().parents[2] / "models" / "configs" / "tiny.yaml")
    trainer = Trainer(config)
    batch = fixed_batch(config.data, "val", per_family=2)
    scores = trainer.validate(batch)
    with torch.no_grad():
        silent = trainer.ema(batch["image"], batch["mask"], torch.zeros_like(batch["text"])).float()
    rgb = (silent.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    truth = (batch["target"] * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    holes = batch["mask"][:, 0].numpy() > 0.5
    blobs = np.flatnonzero(batch["family"].numpy() == 2)
    assert scores["texture_blobs"] == pytest.approx(np.mean([texture_distance(rgb[i], truth[i], holes[i]) for i in blobs]))
    assert scores["hole_ssim_blobs"] == pytest.approx(np.mean([hole_ssim(rgb[i], truth[i], holes[i]) for i in blobs]))
    assert {"hole_ssim_scratches", "hole_ssim_strokes"} <= set(scores)
