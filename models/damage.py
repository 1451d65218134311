"""Old prints from clean photos: seeded physical damage with its true mask, and whole-photo
ageing that is *not* damage.

A print is aged in the order things happen to it: the photograph itself may be soft, faded,
toned or colour-cast (not damage); then the print is scratched, cracked, dusted, creased, torn,
stained and foxed (damage: these pixels are in the mask, whatever their opacity); then it is
scanned (a little blur, grain, JPEG: not damage). Damage therefore sits on top of the toning and
under the scan, as on a real scan. Fine detail that belongs to the picture - lettering, twigs -
is sometimes drawn into the photo *before* ageing and is never in the mask, so the detector
learns that thin and high-contrast is not the same as damaged.

Every draw comes from a ``numpy.random.Generator``; a seed reproduces the sample exactly.
Images are H x W x 3 float32 in [0, 1] while aged, uint8 when returned.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import cv2
import numpy as np


class Damage(enum.IntEnum):
    """Damage types, as stored in the per-pixel type map (0 = not damage)."""

    SCRATCH = 1
    CRACK = 2
    DUST = 3
    HAIR = 4  # hair and lint
    CREASE = 5
    TEAR = 6  # torn edges and missing corners
    STAIN = 7
    FOXING = 8


#: How likely each type is in a training sample, and how many instances it gets.
@dataclass(frozen=True)
class SynthConfig:
    clean_share: float = 0.15  # aged but undamaged samples
    probability: dict = field(default_factory=lambda: {
        Damage.SCRATCH: 0.6, Damage.CRACK: 0.25, Damage.DUST: 0.6, Damage.HAIR: 0.35,
        Damage.CREASE: 0.2, Damage.TEAR: 0.2, Damage.STAIN: 0.12, Damage.FOXING: 0.2,
    })
    #: Opacity range of scratches, cracks, hair: faint ones matter (their contrast over a
    #: long run is what makes them visible).
    opacity: tuple[float, float] = (0.15, 1.0)
    width: tuple[float, float] = (0.7, 4.0)  # scratch width, px (log-uniform)
    wide_share: float = 0.15  # scratches that are wider, up to wide_width px
    wide_width: float = 10.0
    dust_count: tuple[int, int] = (3, 120)  # per 256 x 256 px
    distractor_probability: float = 0.3  # lettering / twigs drawn into the photo itself


@dataclass
class AgedPhoto:
    image: np.ndarray  # H x W x 3 uint8
    types: np.ndarray  # H x W uint8: Damage value of the topmost damage, 0 = none

    @property
    def mask(self) -> np.ndarray:
        return self.types > 0


# ------------------------------------------------------------------------- drawing tools

SUPERSAMPLE = 4


def _coverage(shape, draw) -> np.ndarray:
    """Sub-pixel coverage (0..1) of whatever ``draw(canvas, scale)`` paints at 4x on uint8."""
    h, w = shape
    canvas = np.zeros((h * SUPERSAMPLE, w * SUPERSAMPLE), np.uint8)
    draw(canvas, SUPERSAMPLE)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _polyline(canvas, scale, points, width):
    pts = np.round(np.asarray(points) * scale).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [pts], False, 255, max(1, int(round(width * scale))), cv2.LINE_AA)


def _wander(rng, start, steps, step, turn, heading):
    points = [np.asarray(start, np.float64)]
    for _ in range(steps):
        heading += rng.normal(0.0, turn)
        points.append(points[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
    return np.array(points), heading


def _smooth_field(rng, shape, cells: int, low: float, high: float) -> np.ndarray:
    h, w = shape
    small = rng.uniform(low, high, (cells, cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(min(low, high), max(low, high))


def _composite(image, alpha, colour):
    a = alpha[:, :, None]
    return image * (1.0 - a) + np.asarray(colour, np.float32) * a


#: The least change (in 0..1, any channel, before the scan adds noise) that counts as damage: a
#: stretch of a white scratch across white sky changes nothing and is nothing to repair, while
#: a faint one over a mid-tone (a few levels per pixel, visible along its length) is damage.
VISIBLE = 3.0 / 255.0


def _mark(types, footprint, kind: Damage):
    types[footprint] = int(kind)


def _shows(before, after) -> np.ndarray:
    return np.abs(after - before).max(axis=2) > VISIBLE


def _line_colour(rng, image_mean: float):
    """Bright (emulsion lifted to the paper base) or dark (dirt, ink) - whichever shows."""
    bright = rng.random() < (0.65 if image_mean < 0.6 else 0.35)
    if bright:
        base = rng.uniform(0.82, 1.0)
        return np.array([base, base * rng.uniform(0.95, 1.0), base * rng.uniform(0.88, 1.0)], np.float32)
    return np.full(3, rng.uniform(0.0, 0.18), np.float32)


def _apply_line_damage(image, types, rng, points_list, width, opacity, kind, blur):
    cover = _coverage(types.shape, lambda c, s: [_polyline(c, s, p, width) for p in points_list])
    if not cover.any():
        return image
    alpha = cover * opacity * _smooth_field(rng, types.shape, 5, 0.45, 1.0)
    if blur > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), blur)
    out = _composite(image, alpha, _line_colour(rng, float(image.mean())))
    _mark(types, (cover > 0.3) & _shows(image, out), kind)
    return out


# --------------------------------------------------------------------------- damage types

def scratches(image, types, rng, config: SynthConfig):
    h, w = types.shape
    side = min(h, w)
    for _ in range(int(rng.integers(1, 5))):
        width = float(np.exp(rng.uniform(np.log(config.width[0]), np.log(config.width[1]))))
        if rng.random() < config.wide_share:  # a wide emulsion loss or a worn crack
            width = rng.uniform(config.width[1], config.wide_width)
        opacity = rng.uniform(*config.opacity)
        if rng.random() < 0.5:  # long, nearly straight (film running through a camera or scanner)
            heading = rng.uniform(0, np.pi) if rng.random() < 0.5 else rng.normal(np.pi / 2, 0.15)
            centre = rng.uniform([0, 0], [w, h])
            reach = rng.uniform(0.4, 1.5) * side
            d = np.array([np.cos(heading), np.sin(heading)])
            points = [centre - d * reach / 2, centre + d * reach / 2]
            if rng.random() < 0.5:  # a slight bow
                mid = centre + np.array([-d[1], d[0]]) * rng.normal(0, 0.03 * side)
                points = [points[0], mid, points[1]]
                t = np.linspace(0, 1, 24)[:, None]
                points = (1 - t) ** 2 * points[0] + 2 * (1 - t) * t * points[1] + t ** 2 * points[2]
        else:  # curved
            points, _ = _wander(rng, rng.uniform([0, 0], [w, h]), int(rng.integers(8, 30)), side * rng.uniform(0.02, 0.05),
                                0.15, rng.uniform(0, 2 * np.pi))
        image = _apply_line_damage(image, types, rng, [points], width, opacity, Damage.SCRATCH,
                                   rng.uniform(0, 0.8) if rng.random() < 0.5 else 0)
    return image


def cracks(image, types, rng, config: SynthConfig):
    h, w = types.shape
    side = min(h, w)
    for _ in range(int(rng.integers(1, 3))):
        branches = []
        start = rng.uniform([0, 0], [w, h])
        trunk, heading = _wander(rng, start, int(rng.integers(12, 40)), side * 0.025, 0.35, rng.uniform(0, 2 * np.pi))
        branches.append(trunk)
        for _ in range(int(rng.integers(1, 6))):
            at = trunk[int(rng.integers(0, len(trunk)))]
            branch, _ = _wander(rng, at, int(rng.integers(4, 15)), side * 0.02, 0.45, heading + rng.normal(0, 1.0))
            branches.append(branch)
        width = rng.uniform(0.7, 2.2)
        image = _apply_line_damage(image, types, rng, branches, width, rng.uniform(0.35, 1.0), Damage.CRACK,
                                   rng.uniform(0, 0.5))
    return image


def dust(image, types, rng, config: SynthConfig):
    h, w = types.shape
    count = int(rng.integers(*config.dust_count) * h * w / 256 ** 2)
    centres = rng.uniform([0, 0], [w, h], (count, 2))
    radii = np.exp(rng.uniform(np.log(0.5), np.log(4.0), count))
    # One kind of speck (dust on the negative prints white, on the print dark) or both.
    light = rng.random(count) < (rng.random() if rng.random() < 0.5 else float(rng.random() < 0.5))
    soft = rng.uniform(0.3, 0.8) if rng.random() < 0.4 else 0.0
    strength = rng.uniform(0.5, 1.0)
    for group, level in ((light, rng.uniform(0.85, 1.0)), (~light, rng.uniform(0.0, 0.15))):
        if not group.any():
            continue

        def draw(canvas, s, chosen=group):
            for (x, y), r in zip(centres[chosen], radii[chosen]):
                axes = (max(1, int(r * s * rng.uniform(0.6, 1.0))), max(1, int(r * s)))
                cv2.ellipse(canvas, (int(x * s), int(y * s)), axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)

        cover = _coverage(types.shape, draw)
        alpha = cover * strength
        if soft:
            alpha = cv2.GaussianBlur(alpha, (0, 0), soft)
        out = _composite(image, alpha, np.full(3, level, np.float32))
        _mark(types, (cover > 0.3) & _shows(image, out), Damage.DUST)
        image = out
    return image


def hair(image, types, rng, config: SynthConfig):
    h, w = types.shape
    side = min(h, w)
    lines = [_wander(rng, rng.uniform([0, 0], [w, h]), int(rng.integers(6, 25)), side * rng.uniform(0.008, 0.02),
                     0.3, rng.uniform(0, 2 * np.pi))[0] for _ in range(int(rng.integers(1, 6)))]
    return _apply_line_damage(image, types, rng, lines, rng.uniform(0.6, 1.8), rng.uniform(0.4, 1.0), Damage.HAIR,
                              rng.uniform(0, 0.6))


def crease(image, types, rng, config: SynthConfig):
    h, w = types.shape
    heading = rng.uniform(0, np.pi)
    centre = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
    d = np.array([np.cos(heading), np.sin(heading)])
    normal = np.array([-d[1], d[0]])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bow = rng.normal(0, 0.0008)
    along = (xx - centre[0]) * d[0] + (yy - centre[1]) * d[1]
    offset = (xx - centre[0]) * normal[0] + (yy - centre[1]) * normal[1] - bow * along ** 2
    half = rng.uniform(1.0, 4.5)
    strength = rng.uniform(0.08, 0.3)
    # Highlight on one side of the fold, shadow on the other; cracked emulsion along the ridge.
    profile = strength * np.tanh(offset / half) * np.exp(-(offset / (2 * half)) ** 2)
    image = image + profile[:, :, None] * (1.0 if rng.random() < 0.5 else -1.0)
    ridge = np.abs(offset) < half * 0.6
    if rng.random() < 0.6:
        specks = ridge & (rng.random((h, w)) < rng.uniform(0.05, 0.3))
        specks = cv2.dilate(specks.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
        image = _composite(image, specks.astype(np.float32) * rng.uniform(0.5, 1.0), np.full(3, 0.95, np.float32))
    footprint = np.abs(offset) < half * 1.6
    _mark(types, footprint, Damage.CREASE)
    return image


def tear(image, types, rng, config: SynthConfig):
    h, w = types.shape
    side = min(h, w)
    corner = int(rng.integers(0, 4))
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    cx, cy = corners[corner]
    size = rng.uniform(0.1, 0.45) * side
    # A jagged cut from one edge to the neighbouring one around the corner.
    angles = np.linspace(0, np.pi / 2, 24)
    radius = size * (1 + np.cumsum(rng.normal(0, 0.06, len(angles))))
    sx = 1 if cx == 0 else -1
    sy = 1 if cy == 0 else -1
    pts = np.stack([cx + sx * radius * np.cos(angles), cy + sy * radius * np.sin(angles)], 1)
    if rng.random() < 0.4:  # a torn edge along a whole side rather than a corner
        top = corner % 2 == 0
        along = np.linspace(0, w if top else h, 30)
        depth = np.abs(np.cumsum(rng.normal(0, 0.01 * side, 30))) + rng.uniform(2, 0.08 * side)
        edge = np.stack([along, depth], 1) if top else np.stack([depth, along], 1)
        pts = np.concatenate([edge, [[w, 0], [0, 0]] if top else [[0, h], [0, 0]]])
    else:
        pts = np.concatenate([pts, [[cx, cy]]])
    region = np.zeros((h, w), np.uint8)
    cv2.fillPoly(region, [np.round(pts).astype(np.int32)], 255)
    region = region > 0
    if not region.any():
        return image
    choice = rng.random()
    if choice < 0.45:  # paper base
        colour = np.array([rng.uniform(0.85, 0.97), rng.uniform(0.82, 0.94), rng.uniform(0.72, 0.9)], np.float32)
    elif choice < 0.8:  # scanner lid
        colour = np.full(3, rng.uniform(0.93, 1.0), np.float32)
    else:  # dark background
        colour = np.full(3, rng.uniform(0.0, 0.2), np.float32)
    fill = colour + rng.normal(0, 0.015, (h, w, 1)).astype(np.float32)
    out = np.where(region[:, :, None], fill, image)
    rim = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=int(rng.integers(1, 3))) > 0
    rim &= ~region
    if rng.random() < 0.7:  # white paper fibres along the tear
        out = np.where(rim[:, :, None], np.float32(0.9) + 0.1 * rng.random((h, w, 1)).astype(np.float32), out)
    _mark(types, region | rim, Damage.TEAR)
    return out


def stain(image, types, rng, config: SynthConfig):
    h, w = types.shape
    blob = _smooth_field(rng, (h, w), int(rng.integers(3, 7)), -1.0, 1.0)
    level = rng.uniform(0.45, 0.8)
    region = blob > level
    if not region.any():
        return image
    inside = np.clip((blob - level) / 0.15, 0, 1)
    rim = np.exp(-((blob - level) / 0.03) ** 2) * region
    tint = np.array([rng.uniform(0.75, 0.95), rng.uniform(0.6, 0.8), rng.uniform(0.35, 0.6)], np.float32)
    strength = rng.uniform(0.35, 0.7)
    effect = (inside * strength * 0.6 + rim * strength)[:, :, None]
    out = image * (1 - effect) + image * tint * effect
    _mark(types, region & (effect[:, :, 0] > 0.12), Damage.STAIN)  # where the stain shows
    return out


def foxing(image, types, rng, config: SynthConfig):
    h, w = types.shape
    count = int(rng.integers(3, 30) * h * w / 256 ** 2) + 1
    spots = np.zeros((h, w), np.float32)
    for _ in range(count):
        r = rng.uniform(1.0, 6.0)
        cv2.circle(spots, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), max(1, int(round(r))), 1.0, -1, cv2.LINE_AA)
    spots = cv2.GaussianBlur(spots, (0, 0), rng.uniform(0.6, 1.5))
    spots = np.clip(spots * rng.uniform(1.0, 1.6), 0, 1)
    colour = np.array([rng.uniform(0.45, 0.7), rng.uniform(0.3, 0.45), rng.uniform(0.15, 0.3)], np.float32)
    alpha = spots * rng.uniform(0.4, 0.9)
    _mark(types, alpha > 0.12, Damage.FOXING)
    return _composite(image, alpha, colour)


DRAW = {Damage.SCRATCH: scratches, Damage.CRACK: cracks, Damage.DUST: dust, Damage.HAIR: hair,
        Damage.CREASE: crease, Damage.TEAR: tear, Damage.STAIN: stain, Damage.FOXING: foxing}
#: Areas first, then lines and specks on top (a speck on a stain is a speck).
ORDER = (Damage.STAIN, Damage.FOXING, Damage.TEAR, Damage.CREASE, Damage.CRACK, Damage.SCRATCH, Damage.HAIR,
         Damage.DUST)


# ------------------------------------------------------------------ ageing that is not damage

def _lettering(image, rng):
    h, w = image.shape[:2]
    dark = float(np.percentile(image, 5)), float(np.percentile(image, 95))
    colour = dark[0] if rng.random() < 0.6 else dark[1]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789"
    text = "".join(rng.choice(list(letters), int(rng.integers(4, 16))))
    scale = rng.uniform(0.3, 1.2)
    canvas = np.zeros((h, w), np.uint8)
    cv2.putText(canvas, text, (int(rng.uniform(0, w * 0.6)), int(rng.uniform(h * 0.1, h))),
                int(rng.choice([0, 1, 2, 3, 4, 6, 7])), scale, 255, max(1, int(round(scale * 2))), cv2.LINE_AA)
    alpha = canvas.astype(np.float32)[:, :, None] / 255.0
    return image * (1 - alpha) + colour * alpha


def _twigs(image, rng):
    h, w = image.shape[:2]
    side = min(h, w)
    colour = float(np.percentile(image, 3))
    canvas = np.zeros((h, w), np.uint8)
    start = rng.uniform([0, 0], [w, h])
    trunk, heading = _wander(rng, start, int(rng.integers(10, 30)), side * 0.02, 0.25, rng.uniform(0, 2 * np.pi))
    cv2.polylines(canvas, [np.round(trunk).astype(np.int32).reshape(-1, 1, 2)], False, 255, int(rng.integers(2, 5)), cv2.LINE_AA)
    for _ in range(int(rng.integers(2, 8))):
        at = trunk[int(rng.integers(0, len(trunk)))]
        twig, _ = _wander(rng, at, int(rng.integers(3, 10)), side * 0.015, 0.4, heading + rng.normal(0, 0.9))
        cv2.polylines(canvas, [np.round(twig).astype(np.int32).reshape(-1, 1, 2)], False, 255, 1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(canvas.astype(np.float32) / 255.0, (0, 0), 0.6)[:, :, None]
    return image * (1 - alpha) + colour * alpha


def age_print(image, rng):
    """What time does to the photograph itself (not damage): softness, fading, toning, casts."""
    if rng.random() < 0.4:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.6))
    if rng.random() < 0.5:  # fading: lost contrast, lifted blacks
        lift, drop = rng.uniform(0, 0.25), rng.uniform(0, 0.15)
        image = lift + (1 - lift - drop) * image
    tone = rng.random()
    if tone < 0.2:  # sepia
        grey = image.mean(axis=2, keepdims=True)
        image = grey * np.array([1.0, rng.uniform(0.8, 0.9), rng.uniform(0.55, 0.75)], np.float32)
    elif tone < 0.35:  # black and white
        image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    elif tone < 0.65:  # colour cast / yellowing
        image = image * rng.uniform(0.85, 1.12, 3).astype(np.float32) + rng.uniform(-0.04, 0.04, 3).astype(np.float32)
    if rng.random() < 0.1:  # halftone-like texture
        h, w = image.shape[:2]
        period, angle = rng.uniform(2.5, 6.0), rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = (xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period
        v = (-xx * np.sin(angle) + yy * np.cos(angle)) * 2 * np.pi / period
        image = image + (rng.uniform(0.01, 0.05) * np.cos(u) * np.cos(v))[:, :, None]
    return image


def scan(image, rng):
    """What the scanner and later copies add (not damage): blur, grain, paper texture, JPEG."""
    h, w = image.shape[:2]
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.9))
    if rng.random() < 0.3:
        image = image * _smooth_field(rng, (h, w), int(rng.integers(8, 24)), 0.97, 1.03)[:, :, None]
    if rng.random() < 0.65:  # film grain / scanner noise, sometimes clumped
        sigma = rng.uniform(0.005, 0.06)
        noise = rng.normal(0, 1, (h, w, 1 if rng.random() < 0.6 else 3)).astype(np.float32)
        if rng.random() < 0.5:
            noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.5, 1.2)).reshape(h, w, -1)
            noise /= max(1e-6, float(noise.std()))
        image = image + sigma * noise
    image8 = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, data = cv2.imencode(".jpg", image8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
        image8 = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return image8


def synthesize(photo: np.ndarray, rng: np.random.Generator, config: SynthConfig = SynthConfig(),
               only: tuple[Damage, ...] | None = None, damaged: bool | None = None) -> AgedPhoto:
    """An old print of ``photo`` (H x W x 3 uint8, RGB): aged, damaged unless the draw says
    clean, scanned. ``only`` limits the damage to some types (each then always present);
    ``damaged=False`` gives a clean aged photo."""
    image = photo.astype(np.float32) / 255.0
    h, w = image.shape[:2]
    types = np.zeros((h, w), np.uint8)
    if rng.random() < config.distractor_probability:
        image = _lettering(image, rng) if rng.random() < 0.6 else _twigs(image, rng)
    image = np.clip(age_print(image, rng), 0, 1)
    if damaged is None:
        damaged = bool(only) or rng.random() >= config.clean_share
    if damaged:
        chosen = list(only) if only else [d for d in ORDER if rng.random() < config.probability[d]]
        if not chosen:
            chosen = [Damage(int(rng.choice([Damage.SCRATCH, Damage.DUST])))]
        for kind in ORDER:
            if kind in chosen:
                image = np.clip(DRAW[kind](image, types, rng, config), 0, 1)
    return AgedPhoto(scan(image, rng), types)
