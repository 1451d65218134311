"""`restorer restore` with tiny restoration models (output = image + shift x strength; levels =
the image's per-channel mean) in a model folder of their own, and restore-then-repair."""

import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from restorer_app import cli
from restorer_app.engine import pipeline
from restorer_app.engine.export import embedded_xmp, sidecar_path
from restorer_app.engine.files import sha256_file
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image

from factories import (build_tiny_detect_model, build_tiny_restore3_model, detect_entry, make_photo, restore3_entry,
                       write_manifest)

SHIFT = 0.125


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    build_tiny_restore3_model(folder / "restore3.onnx", shift=SHIFT)
    build_tiny_detect_model(folder / "detect.onnx")
    write_manifest(folder, [restore3_entry(folder), detect_entry(folder)])
    monkeypatch.setattr(pipeline, "default_model_folders", lambda: [folder])
    return folder


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in args], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def photo(tmp_path):
    pixels = make_photo(90, 120, seed=2) // 2 + 40  # dark and faded: the colour step has work
    Image.fromarray(pixels).save(tmp_path / "old.png")
    return tmp_path / "old.png", pixels


def record_of(path):
    return json.loads(sidecar_path(path).read_text())


def test_restore_with_auto_strengths_records_the_model_strengths_and_colour(models, photo, tmp_path):
    source, pixels = photo
    code, out, err = run("restore", source, "-o", tmp_path / "better.png", "--colour", "auto")
    assert code == 0, err
    assert "restored by tiny-restore3 0.1 on CPU" in out and "(auto, estimated by the model)" in out
    record = record_of(tmp_path / "better.png")
    assert record["source"]["sha256"] == sha256_file(source)
    (op,) = record["operations"]
    assert op["action"] == "restore" and op["model_id"] == "tiny-restore3"
    assert op["model_sha256"] == sha256_file(models / "restore3.onnx")
    assert op["denoise_auto"] and op["deblock_auto"] and op["sharpen_auto"]
    assert op["strengths_estimated_by"] == "model"
    means = pixels.reshape(-1, 3).mean(axis=0) / 255  # what the tiny model "estimates"
    assert [op["denoise"], op["deblock"], op["sharpen"]] == pytest.approx(list(means), abs=0.02)
    assert op["colour_correction"] and op["colour_changed"]
    restored = load_image(tmp_path / "better.png").pixels
    assert restored.shape == pixels.shape and op["pixels_changed"] == 90 * 120
    assert restored.min() < pixels.min() and restored.max() > pixels.max()  # the fade is undone
    code, out, err = run("verify", tmp_path / "better.png")
    assert code == 0, err
    assert "restore 1: model tiny-restore3 0.1" in out and "colour corrected" in out


def test_the_colour_step_is_off_unless_asked_for(models, photo, tmp_path):
    source, pixels = photo
    code, out, err = run("restore", source, "-o", tmp_path / "plain.png", "--denoise", "0", "--deblock", "0",
                         "--sharpen", "0")
    assert code == 0, err
    (op,) = record_of(tmp_path / "plain.png")["operations"]
    assert not op["colour_correction"] and not op["colour_changed"]
    assert (load_image(tmp_path / "plain.png").pixels == pixels).all()  # the tiny model at 0 is the identity


def test_given_strengths_and_colour_off_are_recorded_as_given(models, photo, tmp_path):
    source, pixels = photo
    code, out, err = run("restore", source, "-o", tmp_path / "out.png", "--denoise", "0.5", "--deblock", "0",
                         "--sharpen", "0", "--colour", "off")
    assert code == 0, err
    (op,) = record_of(tmp_path / "out.png")["operations"]
    assert (op["denoise"], op["deblock"], op["sharpen"]) == (0.5, 0.0, 0.0)
    assert not (op["denoise_auto"] or op["deblock_auto"] or op["sharpen_auto"])
    assert op["strengths_estimated_by"] is None and not op["colour_correction"] and not op["colour_changed"]
    restored = load_image(tmp_path / "out.png").pixels.astype(int)
    expected = pixels.astype(int)
    expected[..., 0] = np.minimum(255, expected[..., 0] + round(0.5 * SHIFT * 255))  # channel 0 is denoise's
    np.testing.assert_array_equal(restored, expected)
    packet = embedded_xmp(tmp_path / "out.png").decode()
    assert "restored the whole photo with Tiny test model 0.1" in packet and "colour correction off" in packet
    assert 'restorer:SynthesizedPixels="0"' in packet  # restored, not made up
    assert run("verify", tmp_path / "out.png")[0] == 0


def test_sixteen_bit_comes_back_sixteen_bit(models, tmp_path):
    pixels = make_photo(60, 80, dtype=np.uint16, seed=1)
    save_image(RasterImage(pixels, ImageInfo("PNG", 16)), tmp_path / "scan.png")
    code, _, err = run("restore", tmp_path / "scan.png", "-o", tmp_path / "scan.tif", "--denoise", "0",
                       "--deblock", "0", "--sharpen", "0", "--colour", "off")
    assert code == 0, err
    restored = load_image(tmp_path / "scan.tif").pixels
    assert restored.dtype == np.uint16
    np.testing.assert_array_equal(restored, pixels)
    assert run("verify", tmp_path / "scan.tif")[0] == 0


def test_a_batch_restores_every_photo_into_the_folder(models, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(make_photo(40, 50, seed=len(name))).save(tmp_path / name / "x.png")
    code, _, err = run("restore", tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "--out-dir", tmp_path / "out")
    assert code == 2 and "--keep-folders" in err  # both would write out/x.png: refused before any work
    assert not (tmp_path / "out" / "x.png").exists()
    code, _, err = run("restore", tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "--out-dir", tmp_path / "out",
                       "--keep-folders")
    assert code == 0, err
    for name in ("a", "b"):
        assert run("verify", tmp_path / "out" / name / "x.png")[0] == 0


def test_options_and_outputs_are_checked_before_any_work(models, photo, tmp_path, capsys):
    source, _ = photo
    for value, words in (("1.5", "outside 0 to 1"), ("lots", "neither 'auto' nor a number"), ("nan", "outside")):
        with pytest.raises(SystemExit) as stopped:  # argparse's own usage error
            run("restore", source, "-o", tmp_path / "o.png", "--sharpen", value)
        assert stopped.value.code == 2 and words in capsys.readouterr().err
    (tmp_path / "taken.png").write_bytes(b"keep me")
    code, _, err = run("restore", source, "-o", tmp_path / "taken.png")
    assert code == 2 and "--overwrite" in err and (tmp_path / "taken.png").read_bytes() == b"keep me"
    code, _, err = run("restore", source, "-o", source)
    assert code == 2 and "would overwrite the original" in err
    assert run("restore", source, "-o", tmp_path / "taken.png", "--overwrite")[0] == 0


def test_without_a_restoration_model_it_says_so_in_one_sentence(tmp_path, monkeypatch, photo):
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setattr(pipeline, "default_model_folders", lambda: [empty])
    source, _ = photo
    code, out, err = run("restore", source, "-o", tmp_path / "better.png")
    assert code == 1 and out == ""
    assert err.startswith("restorer: error: No photo restoration model is installed") and err.count("\n") == 1
    assert not (tmp_path / "better.png").exists()


def test_models_marks_the_default_restoration_model(models):
    code, out, _ = run("models")
    assert code == 0
    assert any("tiny-restore3" in line and "restore" in line and "(default)" in line for line in out.splitlines())


def test_restore_then_repair_each_output_records_its_own_step_and_the_file_keeps_both(models, tmp_path):
    scratched = make_photo(90, 120, seed=3) // 3
    scratched[30:32, 10:100] = 255  # a bright scratch the tiny detector flags
    Image.fromarray(scratched).save(tmp_path / "scratched.png")
    assert run("restore", tmp_path / "scratched.png", "-o", tmp_path / "step1.png", "--denoise", "0",
               "--deblock", "0", "--sharpen", "0", "--colour", "off")[0] == 0
    code, _, err = run("repair", tmp_path / "step1.png", "-o", tmp_path / "step2.png", "--method", "telea",
                       "--threshold", "0.9")
    assert code == 0, err
    record = record_of(tmp_path / "step2.png")
    assert record["source"]["sha256"] == sha256_file(tmp_path / "step1.png")  # the restored file
    assert [op["action"] for op in record["operations"]] == ["fill"]  # the sidecar: its own step
    packet = embedded_xmp(tmp_path / "step2.png").decode()
    root = ET.fromstring(packet[packet.index("<x:xmpmeta"):packet.rindex("</x:xmpmeta>") + len("</x:xmpmeta>")])
    events = [e.text for e in root.iter("{http://ns.adobe.com/xap/1.0/sType/ResourceEvent#}parameters")]
    assert len(events) == 2  # the file: the restore's event kept from its source, then the fill's
    assert events[0].startswith("restored the whole photo") and events[1].startswith("inpainted")
    code, out, err = run("verify", tmp_path / "step2.png")
    assert code == 0, err
    assert "fill 1:" in out and "restore" not in out.split("fill 1:")[1]
