"""The inpainting generator and its PatchGAN discriminator.

Both are convolution-only on purpose: FFT layers fail the classic ONNX exporter and ONNX
Runtime's CUDA provider has no DFT kernel (models/HISTORY.md). The generator receives the
Navier-Stokes pre-fill and the mask and predicts a *residual* that is added inside the hole
only, so it starts from the classical result and learns what diffusion cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

TEXT_EMBEDDING_SIZE = 384  # all-MiniLM-L6-v2, the app's sentence encoder


@dataclass
class GeneratorConfig:
    """Shape of the generator. Widths are per resolution: full, 1/2, 1/4, 1/8."""

    widths: tuple[int, int, int, int] = (24, 48, 96, 160)
    #: Dilation of each residual block at 1/8 resolution; their number sets the depth.
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)
    text_size: int = TEXT_EMBEDDING_SIZE
    text_hidden: int = 128

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.dilations = tuple(int(d) for d in self.dilations)
        if len(self.widths) != 4:
            raise ValueError(f"widths needs four entries (full, 1/2, 1/4, 1/8), got {self.widths}")


@dataclass
class DiscriminatorConfig:
    """PatchGAN: ``layers`` stride-2 convolutions starting at ``width`` channels."""

    width: int = 32
    layers: int = 3
    max_width: int = 192


class FiLMResidualBlock(nn.Module):
    """Dilated 3x3 conv -> FiLM(text) -> SiLU -> 3x3 conv, scaled and added to the input.

    Dilation widens the receptive field cheaply at 1/8 resolution, which large torn regions
    need; FiLM lets a description shift and scale features without changing the layout.
    The per-channel scale starts small (LayerScale): without it, six unnormalised blocks
    amplified the bottleneck about tenfold each, its activations reached 1e5, and the first
    CPU run learned to shut the whole 1/8 path - and with it the text - off.
    """

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.scale = nn.Parameter(torch.full((1, channels, 1, 1), 1e-2))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        # tanh bounds the text's scale to (0, 2): an unbounded FiLM scale met an unusual
        # caption once and spiked the loss a hundredfold (step ~480 of the first CPU run).
        y = y * (1.0 + torch.tanh(gamma)) + beta
        y = self.conv2(F.silu(y))
        return x + self.scale.to(y.dtype) * y


class InpaintGenerator(nn.Module):
    """(pre-filled RGB, mask, text embedding) -> RGB.

    A small U-Net: three stride-2 encoders, dilated FiLM residual blocks at 1/8, and a
    decoder that changes width *before* upsampling so the expensive full-resolution layers
    stay narrow (that is what keeps 512x512 inside the CPU time budget). Sizes must be
    multiples of 8. The output equals the input outside the hole exactly.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or GeneratorConfig()
        c0, c1, c2, c3 = config.widths
        self.stem = nn.Conv2d(4, c0, 3, padding=1)
        self.down1 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.down3 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.blocks = nn.ModuleList(FiLMResidualBlock(c3, d) for d in config.dilations)
        self.film = nn.Sequential(
            nn.Linear(config.text_size, config.text_hidden),
            nn.SiLU(),
            nn.Linear(config.text_hidden, 2 * c3 * len(config.dilations)),
        )
        # Zero-initialised so an untrained FiLM is the identity, whatever the text says.
        nn.init.zeros_(self.film[-1].weight)
        nn.init.zeros_(self.film[-1].bias)
        # A direct path from the description to the fill's colour: an RGB offset added inside
        # the hole. "Bright red" has to change a whole hole; through the bottleneck alone that
        # signal is weak and slow to learn. Zero-initialised too.
        self.text_colour = nn.Linear(config.text_hidden, 3)
        nn.init.zeros_(self.text_colour.weight)
        nn.init.zeros_(self.text_colour.bias)
        self.reduce3 = nn.Conv2d(c3, c2, 3, padding=1)
        self.refine2 = nn.Conv2d(c2, c2, 3, padding=1)
        self.reduce2 = nn.Conv2d(c2, c1, 3, padding=1)
        self.refine1 = nn.Conv2d(c1, c1, 3, padding=1)
        self.reduce1 = nn.Conv2d(c1, c0, 3, padding=1)
        self.refine0 = nn.Conv2d(c0, c0, 3, padding=1)
        self.head = nn.Conv2d(c0, 3, 3, padding=1)
        # A small head start: the residual begins near zero, i.e. the network begins as NS.
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.zeros_(self.head.bias)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self._fill(image, mask, text, None)

    def _inject(self, h: torch.Tensor, mask: torch.Tensor, latent: torch.Tensor | None, stage: int) -> torch.Tensor:
        """Where a latent code enters the bottleneck (stage 0: before the blocks, 1: halfway);
        the plain inpainter has none."""
        return h

    def _fill(self, image: torch.Tensor, mask: torch.Tensor, text: torch.Tensor,
              latent: torch.Tensor | None) -> torch.Tensor:
        x = torch.cat([image * 2.0 - 1.0, mask], dim=1)
        e0 = F.silu(self.stem(x))
        e1 = F.silu(self.down1(e0))
        e2 = F.silu(self.down2(e1))
        h = self._inject(F.silu(self.down3(e2)), mask, latent, 0)
        hidden = self.film[1](self.film[0](text))
        film = self.film[2](hidden).to(h.dtype)
        gammas, betas = film.view(text.shape[0], len(self.blocks), 2, -1, 1, 1).unbind(2)
        for index, block in enumerate(self.blocks):
            if index == len(self.blocks) // 2:
                h = self._inject(h, mask, latent, 1)
            h = block(h, gammas[:, index], betas[:, index])
        h = F.interpolate(self.reduce3(F.silu(h)), scale_factor=2.0, mode="nearest")
        h = F.silu(self.refine2(F.silu(h + e2)))
        h = F.interpolate(self.reduce2(h), scale_factor=2.0, mode="nearest")
        h = F.silu(self.refine1(F.silu(h + e1)))
        h = F.interpolate(self.reduce1(h), scale_factor=2.0, mode="nearest")
        h = F.silu(self.refine0(F.silu(h + e0)))
        residual = self.head(h).to(image.dtype) + self.text_colour(hidden).to(image.dtype)[:, :, None, None]
        # No clamp here: a hard clamp during training zeroes gradients once saturated
        # (models/HISTORY.md); the app clips at inference.
        return image + mask * residual


#: Channels of the generation model's latent code, given at 1/8 of the input's size.
LATENT_CHANNELS = 8
#: The latent code's resolution relative to the input (the bottleneck's).
LATENT_STRIDE = 8


class LatentInpaintGenerator(InpaintGenerator):
    """The inpainting generator with a latent code: (pre-filled RGB, mask, text, latent) -> RGB.

    The latent is standard normal noise, ``LATENT_CHANNELS`` x H/8 x W/8, drawn by the app from
    the user's seed. It enters the 1/8 bottleneck twice (before the dilated blocks and halfway
    through them) through 3x3 convolutions, so each seed can move both the layout and the
    colours of a large fill. Everything else is the inpainter's, which is why a generation run
    can warm-start from the shipped inpainting model: the new convolutions start small, the
    first fills are the inpainter's, and training teaches the network to use the code.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__(config)
        c3 = self.config.widths[3]
        self.latent_in = nn.Conv2d(LATENT_CHANNELS, c3, 3, padding=1)
        self.latent_mid = nn.Conv2d(LATENT_CHANNELS, c3, 3, padding=1)
        for conv in (self.latent_in, self.latent_mid):
            nn.init.normal_(conv.weight, std=0.02)
            nn.init.zeros_(conv.bias)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, text: torch.Tensor,  # type: ignore[override]
                latent: torch.Tensor) -> torch.Tensor:
        return self._fill(image, mask, text, latent)

    def _inject(self, h, mask, latent, stage):
        # Only inside and near the hole: known pixels say what is there, whatever the seed.
        near = F.max_pool2d(mask, LATENT_STRIDE, LATENT_STRIDE).to(h.dtype)
        conv = self.latent_in if stage == 0 else self.latent_mid
        return h + near * conv(latent.to(h.dtype))


class PatchDiscriminator(nn.Module):
    """PatchGAN on RGB + mask; returns patch logits and the intermediate features that the
    feature-matching loss compares (no pretrained VGG exists offline)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DiscriminatorConfig()
        layers = []
        channels_in = 4
        width = config.width
        for _ in range(config.layers):
            layers.append(nn.Conv2d(channels_in, width, 4, stride=2, padding=1))
            channels_in, width = width, min(width * 2, config.max_width)
        layers.append(nn.Conv2d(channels_in, channels_in, 3, padding=1))
        self.features = nn.ModuleList(layers)
        self.logits = nn.Conv2d(channels_in, 1, 3, padding=1)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = torch.cat([image * 2.0 - 1.0, mask], dim=1)
        feats = []
        for conv in self.features:
            h = F.leaky_relu(conv(h), 0.2)
            feats.append(h)
        return self.logits(h), feats


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


GENERATORS = {"film-unet": InpaintGenerator, "latent-film-unet": LatentInpaintGenerator}
DISCRIMINATORS = {"patchgan": PatchDiscriminator}


def build_generator(name: str, config: GeneratorConfig) -> InpaintGenerator:
    """Factory keyed by config name; unknown names raise rather than fall back."""
    try:
        return GENERATORS[name](config)
    except KeyError:
        raise ValueError(f"Unknown generator '{name}'; known: {sorted(GENERATORS)}") from None


def build_discriminator(name: str, config: DiscriminatorConfig) -> PatchDiscriminator:
    try:
        return DISCRIMINATORS[name](config)
    except KeyError:
        raise ValueError(f"Unknown discriminator '{name}'; known: {sorted(DISCRIMINATORS)}") from None
