"""Losses: hole-weighted L1, mask-aware adversarial terms (logistic + R1, or hinge), and
discriminator feature matching (the stand-in for a perceptual loss: no pretrained VGG
exists offline)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hole_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, valid_weight: float = 0.0) -> torch.Tensor:
    """Mean absolute error over hole pixels (plus ``valid_weight`` x the rest).

    Normalised by the hole area so scratches (1 % of a crop) weigh as much per sample as
    blobs (40 %); the generator copies known pixels exactly, so the valid part is usually 0.
    """
    error = (output - target).abs().mean(1, keepdim=True)
    hole = (error * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1.0)
    if valid_weight:
        keep = 1.0 - mask
        hole = hole + valid_weight * (error * keep).flatten(1).sum(1) / keep.flatten(1).sum(1).clamp(min=1.0)
    return hole.mean()


def hole_log_mse(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, floor: float = 1e-4) -> torch.Tensor:
    """Mean over samples of log(MSE over the hole): minus the hole-PSNR the evaluation reports,
    up to a constant factor (10 / ln 10).

    L1 makes the fill the per-pixel *median* of what could be there; where a large hole is
    uncertain the mean is what minimises the squared error, and taking the log per sample gives
    a sky hole (small error) the same say as a foliage hole (large error), as averaging PSNR does.
    ``floor`` bounds the weight a nearly perfect sample can get.
    """
    error = (output - target).pow(2).mean(1, keepdim=True)
    mse = (error * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1.0)
    return torch.log(mse + floor).mean()


def patch_weights(mask: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Which discriminator patches contain hole pixels (1) or none (0), at logit resolution.

    Outside the hole the output *is* the photo, so calling those patches fake would teach
    the discriminator a contradiction; only patches touching a hole are judged as fake.
    """
    pooled = F.adaptive_max_pool2d(mask, logits.shape[-2:])
    return pooled.to(logits.dtype)


def discriminator_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Real patches everywhere are real; fake patches only where ``weights`` marks a hole."""
    norm = weights.sum().clamp(min=1.0)
    if kind == "logistic":
        return F.softplus(-real_logits).mean() + (F.softplus(fake_logits) * weights).sum() / norm
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + (F.relu(1.0 + fake_logits) * weights).sum() / norm
    raise ValueError(f"Unknown adversarial loss '{kind}'; known: logistic, hinge")


def generator_adversarial_loss(kind: str, fake_logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    norm = weights.sum().clamp(min=1.0)
    if kind == "logistic":  # non-saturating
        return (F.softplus(-fake_logits) * weights).sum() / norm
    if kind == "hinge":
        return -(fake_logits * weights).sum() / norm
    raise ValueError(f"Unknown adversarial loss '{kind}'; known: logistic, hinge")


def feature_matching(fake_features: list[torch.Tensor], real_features: list[torch.Tensor]) -> torch.Tensor:
    """Mean L1 between discriminator features of the output and of the photo, per layer."""
    total = fake_features[0].new_zeros(())
    for fake, real in zip(fake_features, real_features):
        total = total + (fake - real.detach()).abs().mean()
    return total / len(fake_features)


def r1_penalty(discriminator, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """R1: squared gradient norm of D on real photos (Mescheder et al. 2018), in fp32 because
    the double backward is sensitive to bf16 rounding."""
    real = real.detach().float().requires_grad_(True)
    logits, _ = discriminator(real, mask.float())
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def hole_psnr(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample PSNR (dB) over hole pixels, output clipped to [0, 1] like the app does."""
    error = (output.clamp(0, 1) - target).pow(2).mean(1, keepdim=True)
    mse = (error * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1.0)
    return 10.0 * torch.log10(1.0 / mse.clamp(min=1e-10))
