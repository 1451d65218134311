"""The CLI through a real subprocess, as scripts use it."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from factories import make_mask, make_photo


def restorer(*args, cwd=None):
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    return subprocess.run([sys.executable, "-m", "restorer_app.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_version():
    done = restorer("--version")
    assert done.returncode == 0 and done.stdout.startswith("restorer ")


def test_single_telea_reproduces_opencv_and_keeps_every_other_pixel(scan):
    folder, photo, mask = scan
    before = (folder / "photo.png").read_bytes()
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--method", "telea")
    assert done.returncode == 0, done.stderr
    out = np.asarray(Image.open(folder / "out.png"))
    np.testing.assert_array_equal(out, cv2.inpaint(photo, mask, 3, cv2.INPAINT_TELEA))
    np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])
    assert (folder / "photo.png").read_bytes() == before
    assert "Telea" in done.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["inpaint", "{f}/missing.png", "--mask", "{f}/mask.png", "-o", "{f}/o.png"], "does not exist"),
        (["inpaint", "{f}/photo.png", "--mask", "{f}/notes.txt", "-o", "{f}/o.png"], "not an image"),
        (["inpaint", "{f}/photo.png", "--mask", "{f}/small.png", "-o", "{f}/o.png"], "must have the photo's size"),
        (["inpaint", "{f}/photo.png", "--mask", "{f}/mask.png", "-o", "{f}/photo.png"], "original"),
        (["inpaint", "{f}/photo.png", "--mask", "{f}/mask.png", "-o", "{f}/o.gif"], "cannot write"),
        (["inpaint", "{f}/photo.png", "--mask", "{f}/mask.png", "-o", "{f}/o.png", "--method", "nope"], "no model 'nope'"),
        (["inpaint", "{f}/truncated.jpg", "--mask", "{f}/mask.png", "-o", "{f}/o.png"], "truncated"),
        (["inpaint", "{f}/photo.png", "-o", "{f}/o.png"], "needs both"),
    ],
)
def test_bad_input_gives_one_readable_line_and_nonzero_exit(scan, args, words):
    folder, photo, _ = scan
    (folder / "notes.txt").write_text("hello")
    Image.new("L", (10, 10)).save(folder / "small.png")
    Image.fromarray(photo).save(folder / "full.jpg")
    (folder / "truncated.jpg").write_bytes((folder / "full.jpg").read_bytes()[:700])
    done = restorer(*[a.format(f=folder) for a in args])
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert words in lines[0] and "Traceback" not in done.stderr
    assert not (folder / "o.png").exists()


def test_debug_shows_the_traceback(scan):
    folder, _, _ = scan
    done = restorer("--debug", "inpaint", folder / "nope.png", "--mask", folder / "mask.png", "-o", folder / "o.png")
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_batch_goes_on_past_a_bad_file_and_reports_it(tmp_path):
    images, masks_dir, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    images.mkdir(), masks_dir.mkdir()
    expected = {}
    for index in range(3):
        photo, mask = make_photo(64, 80, seed=index), make_mask(64, 80)
        Image.fromarray(photo).save(images / f"p{index}.png")
        Image.fromarray(mask).save(masks_dir / f"p{index}.png")
        expected[f"p{index}.png"] = cv2.inpaint(photo, mask, 3, cv2.INPAINT_NS)
    (images / "p1.png").write_bytes(b"garbage")
    Image.fromarray(make_photo(64, 80)).save(images / "lonely.png")  # no mask for it
    done = restorer("inpaint", *sorted(images.iterdir()), "--mask-dir", masks_dir, "--out-dir", out, "--method", "ns")
    assert done.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "p0.png", "p0.png.restorer.json", "p2.png", "p2.png.restorer.json"]
    for name in ("p0.png", "p2.png"):
        np.testing.assert_array_equal(np.asarray(Image.open(out / name)), expected[name])
    assert "2 of 4 images failed" in done.stderr
    assert "p1.png" in done.stderr and "lonely" in done.stderr and "Traceback" not in done.stderr


def test_models_lists_the_classical_methods():
    done = restorer("models")
    assert done.returncode == 0
    rows = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert {"telea", "ns"} <= set(rows)
    assert done.stdout.splitlines()[0].split()[:4] == ["ID", "KIND", "VERSION", "STATUS"]


def test_output_carries_provenance_tags_and_a_sidecar(scan):
    import hashlib
    import json

    folder, photo, mask = scan
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--method", "ns", "--seed", "7", "--save-synthesized-mask")
    assert done.returncode == 0, done.stderr
    with Image.open(folder / "out.png") as out:  # another library reads the embedded tags
        assert out.text["Software"].startswith("Restorer ")
        assert "1 fill" in out.text["Restorer history"] and f"{np.count_nonzero(mask)} pixels" in out.text["Restorer history"]
        xmp = out.text["XML:com.adobe.xmp"]
        assert 'restorer:Retouched="True"' in xmp and f"inpainted {np.count_nonzero(mask)} pixels" in xmp
    sidecar = json.loads((folder / "out.png.restorer.json").read_text())
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert sidecar["source"] == {"name": "photo.png", "sha256": sha(folder / "photo.png")}
    assert sidecar["output"] == {"name": "out.png", "sha256": sha(folder / "out.png")}
    (operation,) = sidecar["operations"]
    assert operation["method"] == "ns" and operation["seed"] == 7 and operation["model_id"] is None
    assert operation["pixels_changed"] == np.count_nonzero(mask)
    synthesized = np.asarray(Image.open(folder / "out.synthesized.png"))
    np.testing.assert_array_equal(synthesized > 0, mask > 0)
    assert sidecar["synthesized_mask"] == "out.synthesized.png"


@pytest.mark.parametrize("ext", [".jpg", ".tif", ".webp"])
def test_provenance_tags_in_other_formats(scan, ext):
    folder, _, _ = scan
    out = folder / f"out{ext}"
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", out, "--method", "telea")
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        exif = image.getexif()
        assert exif[0x0131].startswith("Restorer ")
        assert exif[0x010E].startswith("Retouched with Restorer")
    if ext == ".jpg":
        assert "lossy" in done.stderr


@pytest.mark.parametrize("ext", [".tif", ".png"])
def test_sixteen_bit_scan_with_profile_comes_back_sixteen_bit_with_the_same_profile(tmp_path, ext):
    import json

    import tifffile
    from PIL import ImageCms

    from restorer_app.engine.image_write import save_image
    from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    scan = make_photo(90, 120, 3, np.uint16)
    mask = make_mask(90, 120)
    save_image(RasterImage(scan, ImageInfo("TIFF", 16, icc_profile=profile, dpi=(1200.0, 1200.0))), tmp_path / f"scan{ext}")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    done = restorer("inpaint", tmp_path / f"scan{ext}", "--mask", tmp_path / "mask.png", "-o", tmp_path / f"out{ext}")
    assert done.returncode == 0, done.stderr
    out = load_image(tmp_path / f"out{ext}")
    assert out.pixels.dtype == np.uint16 and out.info.icc_profile == profile
    np.testing.assert_array_equal(out.pixels[mask == 0], scan[mask == 0])
    assert np.any(out.pixels[mask > 0] != scan[mask > 0])
    if ext == ".tif":  # tags readable by another TIFF library
        with tifffile.TiffFile(tmp_path / "out.tif") as tif:
            tags = tif.pages[0].tags
            assert tags["InterColorProfile"].value == profile
            assert tags["Software"].value.startswith("Restorer")
            assert tags["BitsPerSample"].value == (16, 16, 16)
    sidecar = json.loads((tmp_path / f"out{ext}.restorer.json").read_text())
    assert sidecar["operations"][0]["pixels_changed"] == np.count_nonzero(mask)


def test_match_colour_is_recorded_in_the_sidecar(scan):
    import json

    folder, _, _ = scan
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--method", "ns", "--match-colour")
    assert done.returncode == 0, done.stderr
    assert "Colour matching applies to learned fills" in done.stderr
    (operation,) = json.loads((folder / "out.png.restorer.json").read_text())["operations"]
    assert operation["colour_matched"] is False  # a classical fill was not matched


def test_grain_is_checked_and_recorded(scan):
    import json

    folder, _, _ = scan
    refused = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                       "--grain", "2")
    assert refused.returncode != 0 and "--grain must be between 0 and 1" in refused.stderr
    assert not (folder / "out.png").exists()
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--grain", "0.6")
    assert done.returncode == 0, done.stderr
    (operation,) = json.loads((folder / "out.png.restorer.json").read_text())["operations"]
    assert operation["grain"] == (0.6 if operation["model_id"] else 0.0)


def test_quick_is_recorded_and_changes_only_the_holes(scan):
    import json

    folder, photo, mask = scan
    outputs = {}
    for name, extra in (("best", []), ("quick", ["--quick"])):
        done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / f"{name}.png",
                        *extra)
        assert done.returncode == 0, done.stderr
        outputs[name] = np.asarray(Image.open(folder / f"{name}.png"))
        np.testing.assert_array_equal(outputs[name][mask == 0], photo[mask == 0])
        (operation,) = json.loads((folder / f"{name}.png.restorer.json").read_text())["operations"]
        assert operation["quick"] is (name == "quick" and operation["model_id"] is not None)
        xmp = Image.open(folder / f"{name}.png").info.get("XML:com.adobe.xmp", "")
        assert ("quick (one model run)" in xmp) is operation["quick"]
    if operation["model_id"]:  # the shipped model: one run is not the mirror-averaged pair
        assert not np.array_equal(outputs["best"][mask > 0], outputs["quick"][mask > 0])


def test_no_source_keeps_pixels_out_of_copying_and_is_recorded(scan):
    import json

    folder, photo, mask = scan
    kept_out = np.zeros(mask.shape, np.uint8)
    kept_out[:, :60] = 255
    Image.fromarray(kept_out).save(folder / "face.png")
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--no-source", folder / "face.png")
    assert done.returncode == 0, done.stderr
    (operation,) = json.loads((folder / "out.png.restorer.json").read_text())["operations"]
    assert operation["no_source_pixels"] == (120 * 60 if operation["model_id"] else 0)
    xmp = Image.open(folder / "out.png").info.get("XML:com.adobe.xmp", "")
    assert ("7200 pixels kept out of copying" in xmp) is bool(operation["model_id"])
    np.testing.assert_array_equal(np.asarray(Image.open(folder / "out.png"))[mask == 0], photo[mask == 0])
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(folder / "small.png")
    refused = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "bad.png",
                       "--no-source", folder / "small.png")
    assert refused.returncode != 0 and "small.png" in refused.stderr and not (folder / "bad.png").exists()
