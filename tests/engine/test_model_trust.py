"""Models: never a silent downgrade. Whatever happened to the default model's file, ``auto``
says that it is unusable and why (fill notices, ``restorer models``, the start-up problems);
a model id shadowed by another folder says which copy is used."""

import io

import pytest

from restorer_app import cli
from restorer_app.engine import pipeline
from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import InpaintRequest, Inpainter
from restorer_app.engine.registry import ModelRegistry

from factories import build_tiny_inpaint_model, make_mask, make_photo, tiny_entry, write_manifest


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-100])


def _remove(path):
    path.unlink()


def _replace_with_another_model(path):
    build_tiny_inpaint_model(path, with_text=True)  # another network, another size


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {"truncated": _truncate, "missing": _remove, "replaced": _replace_with_another_model,
          "byte flipped": _flip_a_byte}
WORDS = {"truncated": "truncated", "missing": "missing", "replaced": "replaced", "byte flipped": "damaged"}


@pytest.mark.parametrize("damage", DAMAGE)
def test_auto_says_the_learned_model_is_unusable_and_why(tiny_model_folder, damage):
    DAMAGE[damage](tiny_model_folder / "tiny.onnx")
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    photo, mask = make_photo(40, 40), make_mask(40, 40)
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask, InpaintRequest())
    assert result.method_id == "telea"
    [notice] = [n for n in result.notices if "tiny" in n]
    assert WORDS[damage] in notice and "Telea" in notice
    problems = inpainter.model_problems()
    assert any("tiny" in p and WORDS[damage] in p and "Automatic fills use Telea" in p for p in problems)
    auto = inpainter.methods()[0]
    assert "Telea" in auto.label and WORDS[damage] in auto.detail


def test_no_learned_model_at_all_is_said_too(tmp_path):
    inpainter = Inpainter(ModelRegistry([tmp_path]))
    photo, mask = make_photo(40, 40), make_mask(40, 40)
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask, InpaintRequest())
    assert result.method_id == "telea"
    assert any("No learned inpainting model" in n for n in result.notices)
    assert any("No learned inpainting model" in p for p in inpainter.model_problems())


@pytest.mark.parametrize("damage", DAMAGE)
def test_cli_auto_prints_a_note_and_models_shows_the_status(tiny_model_folder, tmp_path, monkeypatch, damage):
    DAMAGE[damage](tiny_model_folder / "tiny.onnx")
    monkeypatch.setattr(pipeline, "default_model_folders", lambda: [tiny_model_folder])
    from PIL import Image

    Image.fromarray(make_photo(40, 40)).save(tmp_path / "in.png")
    Image.fromarray(make_mask(40, 40)).save(tmp_path / "mask.png")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["inpaint", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                     "-o", str(tmp_path / "out.png")], out, err)
    assert code == 0, err.getvalue()
    notes = [line for line in err.getvalue().splitlines() if line.startswith("restorer: note:")]
    assert any("tiny" in line and WORDS[damage] in line and "Telea" in line for line in notes), err.getvalue()
    out = io.StringIO()
    assert cli.main(["models"], out, io.StringIO()) == 0
    [row] = [line for line in out.getvalue().splitlines() if line.startswith("tiny ")]
    assert ("missing" if damage == "missing" else "corrupt") in row.split()
    assert any(line.startswith("warning:") and WORDS[damage] in line for line in out.getvalue().splitlines())


def test_a_shadowed_model_id_says_which_copy_is_used(tiny_model_folder, tmp_path):
    user = tmp_path / "user-models"
    user.mkdir()
    build_tiny_inpaint_model(user / "tiny.onnx")
    write_manifest(user, [tiny_entry(user, version="9.9")])
    registry = ModelRegistry([tiny_model_folder, user])
    assert registry.get("tiny").path.parent == tiny_model_folder
    [sentence] = [p for p in registry.problems if "tiny" in p]
    assert str(tiny_model_folder) in sentence and str(user) in sentence and "ignored" in sentence
    inpainter = Inpainter(registry)
    photo, mask = make_photo(40, 40), make_mask(40, 40)
    result = inpainter.inpaint(RasterImage(photo, ImageInfo("PNG", 8)), mask, InpaintRequest(method="tiny"))
    assert result.method_id == "tiny" and sentence in result.notices


def test_a_model_without_the_inputs_its_kind_needs_is_reported_at_start(tiny_model_folder):
    entry = tiny_entry(tiny_model_folder)
    entry["inputs"] = [spec for spec in entry["inputs"] if spec["name"] != "mask"]
    write_manifest(tiny_model_folder, [entry])
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    assert any("tiny" in p and "mask" in p for p in inpainter.model_problems())
    assert "Telea" in inpainter.methods()[0].label
