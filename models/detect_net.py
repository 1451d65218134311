"""The damage detector: a small conv-only encoder-decoder that gives every pixel a damage logit.

Cost per pixel decides whether a 60 MP scan takes seconds or minutes, so the network never
works at full resolution: the photo is folded 2x2 into channels (space-to-depth, nothing lost:
a one-pixel scratch is still one channel's worth of signal), the encoder halves the size three
times more and dilates to see 100+ px of context (a crease or torn corner is recognised by its shape, a speck by
its surroundings), the decoder adds each level back (addition, not concatenation: cheaper at
the same quality here), and the last layer unfolds four logits per 2x2 block back to full
resolution. Any input whose sides are multiples of 16 works.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

#: Sides must be multiples of this (space-to-depth, then three halvings).
SIZE_MULTIPLE = 16


@dataclass(frozen=True)
class DetectorConfig:
    widths: tuple[int, ...] = (32, 48, 96, 128)
    deep_blocks: int = 2  # dilated convolutions at the coarsest level (context for large damage)


def conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DamageDetector(nn.Module):
    def __init__(self, config: DetectorConfig = DetectorConfig()) -> None:
        super().__init__()
        w = config.widths
        self.config = config
        self.stem = nn.Sequential(conv(12, w[0]), conv(w[0], w[0]))
        self.down = nn.ModuleList(nn.Sequential(conv(w[i], w[i + 1], stride=2), conv(w[i + 1], w[i + 1]))
                                  for i in range(len(w) - 1))
        self.deep = nn.Sequential(*[conv(w[-1], w[-1], dilation=2 ** (i + 1)) for i in range(config.deep_blocks)])
        self.lateral = nn.ModuleList(nn.Conv2d(w[i + 1], w[i], 1) for i in range(len(w) - 1))
        self.up = nn.ModuleList(conv(w[i], w[i]) for i in range(len(w) - 1))
        self.head = nn.Conv2d(w[0], 4, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """N x 3 x H x W in [0, 1] -> N x 1 x H x W damage logits."""
        x = F.pixel_unshuffle(image - 0.5, 2)
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(skips[-1]))
        x = skips[-1] + self.deep(skips[-1])
        for i in reversed(range(len(self.up))):
            x = F.interpolate(self.lateral[i](x), scale_factor=2.0, mode="bilinear", align_corners=False)
            x = self.up[i](x + skips[i])
        return F.pixel_shuffle(self.head(x), 2)


class ProbabilityHead(nn.Module):
    """What ships: the detector with its sigmoid, so the ONNX output is a probability."""

    def __init__(self, detector: DamageDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.detector(image))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
