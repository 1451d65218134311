"""Builds resources/samples/damaged_portrait.jpg and its damage mask.

Source: scikit-image's ``astronaut.png`` (Eileen Collins, NASA, public domain). The script
ages it like an old print (sepia, faded contrast, grain) and damages it the way real prints
are damaged: thin scratches, dust specks, a crease and a torn-off corner. The mask marks
the damaged pixels plus two pixels around them. Run once with scikit-image installed; the outputs are committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


def main() -> None:
    import skimage

    source = Path(os.path.dirname(skimage.__file__)) / "data" / "astronaut.png"
    rgb = cv2.cvtColor(cv2.imread(str(source)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    rng = np.random.default_rng(1907)
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    sepia = np.stack([gray * 1.07 + 0.05, gray * 0.92 + 0.04, gray * 0.72 + 0.03], axis=2)
    aged = 0.12 + 0.78 * np.clip(sepia, 0, 1) + rng.normal(0, 0.012, sepia.shape).astype(np.float32)
    height, width = gray.shape
    mask = np.zeros((height, width), np.uint8)
    damage = aged.copy()

    def scratch(points, thickness, shade):
        layer = np.zeros_like(mask)
        cv2.polylines(layer, [np.array(points, np.int32)], False, 255, thickness, cv2.LINE_AA)
        hit = layer > 96
        damage[hit] = shade
        mask[hit] = 255

    for _ in range(7):  # long thin scratches with a little wander
        x, slope = rng.integers(30, width - 30), rng.normal(0, 0.08)
        phase, wobble = rng.random() * 6.28, rng.random() * 4
        top, bottom = sorted(rng.integers(0, height, 2)) if rng.random() < 0.5 else (0, height)
        points = [(x + slope * y + wobble * np.sin(y / 60 + phase), y) for y in range(top, bottom, 8)]
        scratch(points, int(rng.integers(1, 3)), 0.93 + rng.random() * 0.05)
    scratch([(0, 330), (140, 300), (300, 318), (511, 280)], 3, 0.9)  # a crease
    for _ in range(140):  # dust specks
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(1, 4))
        cv2.circle(mask, (cx, cy), r, 255, -1)
        cv2.circle(damage, (cx, cy), r, (0.08, 0.07, 0.06) if rng.random() < 0.5 else (0.95, 0.94, 0.9), -1)
    torn = np.array([[width - 150, 0], [width, 0], [width, 120], [width - 40, 70], [width - 95, 40]], np.int32)
    cv2.fillPoly(mask, [torn], 255)
    cv2.fillPoly(damage, [torn], (0.97, 0.96, 0.93))
    out_dir = Path(__file__).resolve().parents[1] / "resources" / "samples"
    out = cv2.cvtColor(np.clip(damage * 255, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(out_dir / "damaged_portrait.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 93])
    # Like a restorer's mask, it covers the damage plus the JPEG halo around it.
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    cv2.imwrite(str(out_dir / "damaged_portrait_mask.png"), mask)
    print(f"mask covers {np.count_nonzero(mask) / mask.size:.1%}")


if __name__ == "__main__":
    main()
