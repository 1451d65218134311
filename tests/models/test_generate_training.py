"""The generation model: its masks, a few training steps, the export and the app loading it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from models.export import update_manifest
from models.export_generate import TOLERANCES, export_onnx, latent_effect, manifest_entry, parity
from models.gen_masks import COVERAGE, GenerationFamily, generation_mask
from models.network import LATENT_CHANNELS, GeneratorConfig, InpaintGenerator, LatentInpaintGenerator
from models.train import train
from models.train_generate import (FAMILIES, GenerateTrainConfig, GenerateTrainer, make_generation_loader,
                                   validation_batch)

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::FutureWarning")]

TINY = {
    "name": "tiny-generate", "steps": 4, "batch": 2,
    "generator": {"widths": [8, 8, 16, 16], "dilations": [1, 2], "text_hidden": 16},
    "discriminator": {"width": 8, "layers": 2, "max_width": 16},
    "data": {"photos": "synthetic", "crop": 48, "synthetic_count": 6, "synthetic_size": 64, "text_encoder": "none"},
    "optim": {"warmup": 2}, "precision": "none", "channels_last": False, "threads": 1, "workers": 0,
    "log_every": 2, "checkpoint_every": 2, "validate_every": 2, "validation_per_family": 1,
}


@pytest.mark.parametrize("family", list(GenerationFamily))
def test_generation_masks_cover_their_range_and_reach_the_edge(family):
    rng = np.random.default_rng(5)
    low, high = COVERAGE[family]
    for _ in range(20):
        mask = generation_mask(family, 128, 160, rng)
        cover = np.count_nonzero(mask) / mask.size
        assert low <= cover <= high
        edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
        if family is not GenerationFamily.LARGE:
            assert edge.any()  # torn edges and extended canvas start at the photo's edge


def test_the_same_seed_gives_the_same_mask():
    a = generation_mask(GenerationFamily.BORDER, 96, 96, np.random.default_rng(1))
    b = generation_mask(GenerationFamily.BORDER, 96, 96, np.random.default_rng(1))
    assert np.array_equal(a, b)


def test_the_latent_generator_keeps_known_pixels_and_uses_its_code():
    torch.manual_seed(0)
    net = LatentInpaintGenerator(GeneratorConfig(widths=(8, 8, 16, 16), dilations=(1, 2), text_hidden=16)).eval()
    with torch.no_grad():
        torch.nn.init.normal_(net.head.weight, std=0.3)
    image = torch.rand(1, 3, 32, 48)
    mask = torch.zeros(1, 1, 32, 48)
    mask[:, :, 8:24, 8:32] = 1
    text = torch.zeros(1, 384)
    with torch.no_grad():
        a = net(image, mask, text, torch.randn(1, LATENT_CHANNELS, 4, 6))
        b = net(image, mask, text, torch.randn(1, LATENT_CHANNELS, 4, 6))
    assert torch.equal(a[mask.expand_as(a) == 0], image[mask.expand_as(a) == 0])
    assert (a - b).abs().max() > 1e-4


def test_it_warm_starts_from_an_inpainter_with_only_the_latent_layers_fresh(tmp_path):
    config = GenerateTrainConfig.from_dict(TINY)
    inpainter = InpaintGenerator(config.generator)
    torch.save({"generator": inpainter.state_dict(), "ema": inpainter.state_dict(), "step": 9}, tmp_path / "inp.pt")
    config.init_from = str(tmp_path / "inp.pt")
    trainer = GenerateTrainer(config)
    own = trainer.generator.state_dict()
    for name, value in inpainter.state_dict().items():
        assert torch.equal(own[name], value)
    assert any(name.startswith("latent_in") for name in own)


def test_a_few_steps_train_validate_checkpoint_and_resume(tmp_path):
    config = GenerateTrainConfig.from_dict(TINY)
    trainer = train(config, tmp_path / "run", quiet=True, trainer_class=GenerateTrainer,
                    loader_fn=make_generation_loader, validation_fn=validation_batch)
    assert trainer.step == 4
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["l1"]) and r["l1"] <= r["l1_mean"] + 1e-6 for r in records)  # best of two <= mean
    last = records[-1]
    for name in FAMILIES:
        assert {f"val_{name}", f"best4_{name}", f"spread_{name}"} <= set(last)
        assert last[f"best4_{name}"] >= last[f"val_{name}"] - 1e-6
    config.steps = 6
    resumed = train(config, tmp_path / "run", quiet=True, trainer_class=GenerateTrainer,
                    loader_fn=make_generation_loader, validation_fn=validation_batch)
    assert resumed.step == 6


def test_export_matches_torch_and_the_app_runs_it_with_seeds(tmp_path):
    from restorer_app.engine.imageio import ImageInfo, RasterImage
    from restorer_app.engine.pipeline import InpaintRequest, Inpainter
    from restorer_app.engine.registry import ModelRegistry

    torch.manual_seed(1)
    net = LatentInpaintGenerator(GeneratorConfig(widths=(8, 16, 16, 24), dilations=(1, 2), text_hidden=16)).eval()
    with torch.no_grad():
        for weight in net.parameters():
            weight.add_(torch.randn_like(weight) * 0.01)
        torch.nn.init.normal_(net.head.weight, std=0.3)
        torch.nn.init.normal_(net.latent_in.weight, std=0.3)
    path = tmp_path / "gen.onnx"
    export_onnx(net, path, {"restorer.kind": "generate"})
    assert parity(net, path) <= TOLERANCES[0]
    assert latent_effect(net) > 0.5
    update_manifest(tmp_path, manifest_entry("gen", "Generation test", "0.1", path, "Apache-2.0", "card.md", "test"))
    entry = json.loads((tmp_path / "manifest.json").read_text())["models"][0]
    assert entry["kind"] == "generate" and [i["name"] for i in entry["inputs"]] == ["image", "mask", "text", "latent"]
    photo = (np.random.default_rng(0).random((64, 80, 3)) * 255).astype(np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[:30, :40] = 255
    inpainter = Inpainter(ModelRegistry([tmp_path]))
    fills = [inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask,
                               InpaintRequest(method="gen", seed=seed, grain=0.0)).pixels for seed in (0, 1)]
    assert np.array_equal(fills[0][mask == 0], photo[mask == 0])
    assert np.abs(fills[0].astype(int) - fills[1].astype(int)).max() > 0
