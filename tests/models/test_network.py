"""Generator and discriminator shapes, budgets and the residual-inside-the-hole contract."""

import pytest
import torch

from models.network import (DiscriminatorConfig, GeneratorConfig, InpaintGenerator, PatchDiscriminator,
                            build_discriminator, build_generator, count_parameters)


def test_default_generator_fits_the_parameter_budget():
    assert count_parameters(InpaintGenerator(GeneratorConfig())) <= 4_000_000


def test_output_equals_input_outside_the_hole():
    torch.manual_seed(0)
    net = InpaintGenerator(GeneratorConfig(widths=(8, 8, 16, 16), dilations=(1, 2), text_hidden=8))
    torch.nn.init.normal_(net.head.weight, std=0.5)
    image = torch.rand(2, 3, 48, 64)
    mask = torch.zeros(2, 1, 48, 64)
    mask[:, :, 10:30, 20:40] = 1
    out = net(image, mask, torch.randn(2, 384))
    assert out.shape == image.shape
    assert torch.equal(out * (1 - mask), image * (1 - mask))
    assert not torch.allclose(out, image)


def test_film_starts_as_identity():
    net = InpaintGenerator(GeneratorConfig(widths=(8, 8, 16, 16), dilations=(1,), text_hidden=8))
    image, mask = torch.rand(1, 3, 32, 32), torch.ones(1, 1, 32, 32)
    assert torch.equal(net(image, mask, torch.zeros(1, 384)), net(image, mask, torch.randn(1, 384)))


def test_discriminator_patches_and_features():
    d = PatchDiscriminator(DiscriminatorConfig(width=8, layers=3, max_width=16))
    logits, feats = d(torch.rand(2, 3, 64, 64), torch.ones(2, 1, 64, 64))
    assert logits.shape == (2, 1, 8, 8) and len(feats) == 4


def test_factories_reject_unknown_names():
    with pytest.raises(ValueError, match="Unknown generator"):
        build_generator("fft-lama", GeneratorConfig())
    with pytest.raises(ValueError, match="Unknown discriminator"):
        build_discriminator("stylegan", DiscriminatorConfig())


def test_text_reaches_the_fill_once_film_has_weights():
    from models.export import text_effect

    generator = InpaintGenerator(GeneratorConfig(widths=(8, 8, 16, 16), dilations=(1, 2))).eval()
    assert text_effect(generator, 32) == 0.0  # zero-initialised FiLM: text is ignored at first
    torch.nn.init.normal_(generator.film[-1].weight, std=0.5)
    torch.nn.init.normal_(generator.head.weight, std=0.1)
    for block in generator.blocks:  # as if training had grown the residual branches
        block.scale.data.fill_(1.0)
    assert text_effect(generator, 32) > 1e-5  # exactly 0 if the text path were cut


def test_residual_blocks_start_small_so_the_bottleneck_stays_bounded():
    generator = InpaintGenerator()
    torch.manual_seed(0)
    x = torch.randn(1, 160, 8, 8)
    zeros = torch.zeros(1, 160, 1, 1)
    h = x
    with torch.no_grad():
        for block in generator.blocks:
            h = block(h, zeros, zeros)
    assert float((h - x).abs().max()) < 0.5 * float(x.abs().max())
