"""The restoration network: a small conv-only encoder-decoder that removes noise, JPEG artefacts
and blur by the amounts it is given, plus a tiny estimator of those amounts.

The photo is folded 2x2 into channels (as in the detector: full resolution costs four times as
much and nothing is lost), the three strength maps join it, three halvings with residual blocks
see enough context for blur and 8x8 JPEG blocks, and the decoder adds each level back. The
network predicts a correction added to the photo, so "strength 0" has an easy answer: add
nothing. The estimator sees the photo only (never the strengths) and gives the three levels
the photo seems to have; the app runs it on a few sample tiles for ``auto``.

Fading and colour casts are global, so they are not the per-pixel network's work: a tiny
:class:`ToneNet` reads the whole restored photo's per-channel quantiles (the app gathers them
from its histograms while it restores) and predicts a gain and an offset per channel, the
inverse of a fade's lifted blacks, dimmed whites and tint. It was chosen over per-channel auto
levels because, trained on the same photos, it tells a faded print from a photo that is merely
dark or misty better (measured in the model card).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from restorer_app.engine.restoration import TONE_FEATURES, TONE_GAIN_RANGE, TONE_OFFSET_RANGE

SIZE_MULTIPLE = 16


@dataclass(frozen=True)
class RestorerConfig:
    widths: tuple[int, ...] = (48, 64, 128, 160)
    blocks: tuple[int, ...] = (1, 1, 2, 2)  # residual blocks per level
    estimator_width: int = 32


def config_from(saved: dict) -> RestorerConfig:
    """The config a checkpoint was saved with."""
    return RestorerConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})


# ToneNet reads the app's TONE_FEATURES (restorer_app.engine.restoration.tone_features):
# quantiles per channel and their tint; its curves map to gains and offsets by the app's ranges.


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
                                  nn.Conv2d(width, width, 3, 1, 1))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ToneNet(nn.Module):
    """Per-channel quantiles (N x TONE_FEATURES) -> curves N x 6 in [0, 1]: gain u for R, G, B,
    then offset v; 0.5 is the identity (the last layer starts at zero)."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(TONE_FEATURES, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                  nn.Linear(width, 6))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, tone: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(tone))


def apply_tone(curves: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """``image`` (N x ... x 3, channels last, in [0, 1]) through ``curves`` (N x 6), as the app
    applies them (its lookup tables are this function sampled at every level)."""
    shape = (curves.shape[0],) + (1,) * (image.dim() - 2) + (3,)
    gain = torch.exp(TONE_GAIN_RANGE * (2 * curves[:, :3] - 1)).reshape(shape)
    offset = (TONE_OFFSET_RANGE * (2 * curves[:, 3:] - 1)).reshape(shape)
    return torch.clamp((image - 0.5) * gain + 0.5 + offset, 0.0, 1.0)


class RestoreNet(nn.Module):
    def __init__(self, config: RestorerConfig = RestorerConfig()) -> None:
        super().__init__()
        w, b = config.widths, config.blocks
        self.config = config
        self.stem = nn.Sequential(conv(12 + 3, w[0]), *[Residual(w[0]) for _ in range(b[0])])
        self.down = nn.ModuleList(nn.Sequential(conv(w[i], w[i + 1], stride=2), *[Residual(w[i + 1]) for _ in range(b[i + 1])])
                                  for i in range(len(w) - 1))
        self.lateral = nn.ModuleList(nn.Conv2d(w[i + 1], w[i], 1) for i in range(len(w) - 1))
        self.up = nn.ModuleList(nn.Sequential(conv(w[i], w[i]), Residual(w[i])) for i in range(len(w) - 1))
        self.head = nn.Conv2d(w[0], 12, 3, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        e = config.estimator_width
        self.estimator = nn.Sequential(conv(12, e, 2), conv(e, 2 * e, 2), conv(2 * e, 2 * e, 2), nn.Conv2d(2 * e, 3, 1))
        self.tone = ToneNet()

    def forward(self, image: torch.Tensor, strength: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image N x 3 x H x W in [0, 1], strength N x 3 x H x W in [0, 1] -> (restored image,
        N x 3 x 1 x 1 estimated levels)."""
        folded = F.pixel_unshuffle(image - 0.5, 2)
        x = torch.cat([folded, F.avg_pool2d(strength, 2)], dim=1)
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(skips[-1]))
        x = skips[-1]
        for i in reversed(range(len(self.up))):
            x = F.interpolate(self.lateral[i](x), scale_factor=2.0, mode="bilinear", align_corners=False)
            x = self.up[i](x + skips[i])
        restored = image + F.pixel_shuffle(self.head(x), 2)
        return restored, self.estimator_levels(image)

    def estimator_levels(self, image: torch.Tensor) -> torch.Tensor:
        """N x 3 x 1 x 1: the levels the photo seems to have, from the photo alone."""
        return torch.sigmoid(self.estimator(F.pixel_unshuffle(image - 0.5, 2)).mean(dim=(2, 3), keepdim=True))


class ExportedRestorer(nn.Module):
    """What the app runs: image, strength and the photo's tone features in; the restored
    image, the estimated levels and the colour curves (N x 6 x 1 x 1) out."""

    def __init__(self, net: RestoreNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, strength: torch.Tensor, tone: torch.Tensor):
        restored, levels = self.net(image, strength)
        return restored, levels, self.net.tone(tone)[:, :, None, None]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
