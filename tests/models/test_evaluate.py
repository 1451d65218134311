"""The evaluation metrics mean what the model card says they mean."""

import cv2
import numpy as np

from models.evaluate import score


def test_perfect_fill_scores_identity():
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (64, 64, 3)).astype(np.uint8), (0, 0), 1.0)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    s = score(photo.copy(), photo, mask)
    assert s.psnr >= 99 and abs(s.ssim - 1) < 1e-6 and abs(s.sharpness - 1) < 1e-6


def test_blurred_fill_is_less_sharp_and_worse():
    rng = np.random.default_rng(1)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (64, 64, 3)).astype(np.uint8), (0, 0), 0.8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    soft = photo.copy()
    soft[mask > 0] = cv2.GaussianBlur(photo, (0, 0), 3)[mask > 0]
    s = score(soft, photo, mask)
    assert s.sharpness < 0.3 and s.psnr < 40 and s.ssim < 0.9
