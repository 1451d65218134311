"""What the CLI writes: never over another output, an input or an unasked-for existing file;
checked before any fill; image, sidecar and XMP always a consistent set or reported by
``restorer verify`` as not one."""

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from factories import make_mask, make_photo
from restorer_app import cli


def restorer(*args, cwd=None, umask=None):
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, "-m", "restorer_app.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120, preexec_fn=preexec)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def single(folder: Path, output, *extra):
    return restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", output,
                    "--method", "telea", *extra)


@pytest.fixture
def two_boxes(tmp_path):
    """Two scans named x.png in the folders of two archive boxes, one mask for the name."""
    photos = {}
    for box, seed in (("a", 1), ("b", 2)):
        (tmp_path / box).mkdir()
        photos[box] = make_photo(64, 80, seed=seed)
        Image.fromarray(photos[box]).save(tmp_path / box / "x.png")
    (tmp_path / "masks").mkdir()
    mask = make_mask(64, 80)
    Image.fromarray(mask).save(tmp_path / "masks" / "x.png")
    return tmp_path, photos, mask


# ------------------------------------------------------------------ batches and existing files


def test_two_inputs_of_one_name_are_refused_before_any_work(two_boxes):
    folder, _, _ = two_boxes
    done = restorer("inpaint", folder / "a" / "x.png", folder / "b" / "x.png", "--mask-dir", folder / "masks",
                    "--out-dir", folder / "out", "--method", "telea")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert str(folder / "out" / "x.png") in line and str(folder / "a" / "x.png") in line
    assert str(folder / "b" / "x.png") in line and "--keep-folders" in line
    assert not (folder / "out").exists()


def test_keep_folders_keeps_both_boxes_apart(two_boxes):
    folder, photos, mask = two_boxes
    done = restorer("inpaint", folder / "a" / "x.png", folder / "b" / "x.png", "--mask-dir", folder / "masks",
                    "--out-dir", folder / "out", "--method", "telea", "--keep-folders")
    assert done.returncode == 0, done.stderr
    assert files_in(folder / "out") == ["a/x.png", "a/x.png.restorer.json", "b/x.png", "b/x.png.restorer.json"]
    for box, photo in photos.items():
        out = np.asarray(Image.open(folder / "out" / box / "x.png"))
        np.testing.assert_array_equal(out, cv2.inpaint(photo, mask, 3, cv2.INPAINT_TELEA))


def test_an_existing_output_is_replaced_only_with_overwrite_and_keeps_its_mode(scan):
    folder, _, _ = scan
    target = folder / "out.png"
    target.write_bytes(b"last week's repair")
    target.chmod(0o640)
    refused = single(folder, target)
    assert refused.returncode == 2
    assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert target.read_bytes() == b"last week's repair"
    done = single(folder, target, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() != b"last week's repair"
    assert (target.stat().st_mode & 0o777) == 0o640


def test_a_batch_with_one_existing_output_is_refused_before_any_work(tmp_path):
    images, masks, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    for folder in (images, masks, out):
        folder.mkdir()
    for index in range(3):
        Image.fromarray(make_photo(40, 48, seed=index)).save(images / f"p{index}.png")
        Image.fromarray(make_mask(40, 48)).save(masks / f"p{index}.png")
    (out / "p2.png").write_bytes(b"kept")
    done = restorer("inpaint", *sorted(images.iterdir()), "--mask-dir", masks, "--out-dir", out, "--method", "ns")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert str(out / "p2.png") in line and "--overwrite" in line
    assert files_in(out) == ["p2.png"] and (out / "p2.png").read_bytes() == b"kept"


def test_an_output_may_not_be_a_mask_or_another_input_of_the_batch(tmp_path):
    images, masks = tmp_path / "in", tmp_path / "masks"
    images.mkdir(), masks.mkdir()
    Image.fromarray(make_photo(40, 48)).save(images / "p.png")
    Image.fromarray(make_mask(40, 48)).save(masks / "p.png")
    before = sha(masks / "p.png")
    done = restorer("inpaint", images / "p.png", "--mask-dir", masks, "--out-dir", masks, "--method", "ns",
                    "--overwrite")
    assert done.returncode == 2 and "would overwrite the mask" in done.stderr
    assert sha(masks / "p.png") == before
    done = restorer("inpaint", images / "p.png", "--mask-dir", masks, "--out-dir", images, "--method", "ns",
                    "--overwrite")
    assert done.returncode == 2 and "would overwrite the original" in done.stderr
    # p.png's synthesized-pixels mask would be the output of the input p.synthesized.png
    Image.fromarray(make_photo(40, 48)).save(images / "p.synthesized.png")
    Image.fromarray(make_mask(40, 48)).save(masks / "p.synthesized.png")
    done = restorer("inpaint", images / "p.png", images / "p.synthesized.png", "--mask-dir", masks,
                    "--out-dir", tmp_path / "out", "--method", "ns", "--save-synthesized-mask")
    assert done.returncode == 2
    assert f"2 inputs would write {tmp_path / 'out' / 'p.synthesized.png'}" in done.stderr
    assert "--keep-folders" not in done.stderr  # one folder: keeping folders would not help
    assert not (tmp_path / "out").exists()


def test_another_outputs_synthesized_mask_is_never_replaced(scan):
    folder, _, mask = scan
    first = single(folder, folder / "x.tif", "--save-synthesized-mask")
    assert first.returncode == 0, first.stderr
    owned = sha(folder / "x.synthesized.png")
    for output in ("x.png", "x.synthesized.png"):
        done = single(folder, folder / output, "--save-synthesized-mask", "--overwrite")
        assert done.returncode == 2, done.stderr
        assert "synthesized-pixels mask of" in done.stderr and "x.tif" in done.stderr
    assert sha(folder / "x.synthesized.png") == owned
    assert restorer("verify", folder / "x.tif").returncode == 0


# ------------------------------------------------------------------------ checked before work


@pytest.mark.parametrize(
    "output, extra, words",
    [
        ("o.xyz", [], "cannot write '.xyz'"),
        ("nowhere/o.png", [], "does not exist"),
        ("notes.txt/o.png", [], "not a folder"),
        ("o.jpg", ["--jpeg-quality", "0"], "--jpeg-quality must be between 1 and 100"),
        ("o.jpg", ["--jpeg-quality", "500"], "--jpeg-quality must be between 1 and 100"),
        ("o.png", ["--seed", "-1"], "--seed must be between 0 and"),
        ("o.png", ["--seed", str(2**32)], "--seed must be between 0 and"),
        ("o.png", ["--feather", "-2"], "--feather must be 0 or more"),
        ("o.png", ["--grain", "nan"], "--grain must be between 0 and 1"),
        ("o.png", ["--max-megapixels", "0"], "--max-megapixels must be a number above 0"),
        ("o.png", ["--max-megapixels", "nan"], "--max-megapixels must be a number above 0"),
        ("o.png", ["--page", "0"], "--page counts from 1"),
        ("x" * 245 + ".png", [], "too long for its sidecar"),
    ],
)
def test_outputs_and_options_are_checked_before_the_input_is_even_read(tmp_path, output, extra, words):
    # The input does not exist: reading it would fail with exit 1, so exit 2 proves the
    # check came first.
    (tmp_path / "notes.txt").write_text("not a folder")
    Image.fromarray(make_mask(20, 20)).save(tmp_path / "mask.png")
    done = restorer("inpaint", tmp_path / "missing.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / output,
                    *extra)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("restorer: usage error:") and words in line
    assert sorted(os.listdir(tmp_path)) == ["mask.png", "notes.txt"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a folder this user cannot write")
def test_an_unwritable_output_folder_is_a_usage_error(scan):
    folder, _, _ = scan
    locked = folder / "locked"
    locked.mkdir(0o555)
    try:
        done = single(folder, locked / "o.png")
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2 and "cannot write into" in done.stderr


def test_a_long_output_name_still_gets_its_sidecar(scan):
    folder, _, _ = scan
    output = folder / ("x" * 236 + ".png")  # sidecar name 250 bytes, its temporary file would not fit
    done = single(folder, output)
    assert done.returncode == 0, done.stderr
    assert restorer("verify", output).returncode == 0


# ------------------------------------------------------------------------ files and modes


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_outputs_respect_the_umask(scan, umask, mode):
    folder, _, _ = scan
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--method", "telea", "--save-synthesized-mask", umask=umask)
    assert done.returncode == 0, done.stderr
    for name in ("out.png", "out.png.restorer.json", "out.synthesized.png"):
        assert (folder / name).stat().st_mode & 0o777 == mode, name


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_write_removes_temporary_files_of_killed_runs_and_only_those(scan):
    folder, _, _ = scan
    dead = folder / f".out.png.restorer-{_dead_pid()}-0a1b2c3d.part"
    alive = folder / f".out.png.restorer-{os.getpid()}-0a1b2c3d.part"  # this test process: still running
    foreign = folder / ".out.png.a1b2c3d4.part"  # not named by Restorer
    other_target = folder / f".other.png.restorer-{_dead_pid()}-0a1b2c3d.part"
    for path in (dead, alive, foreign, other_target):
        path.write_bytes(b"partial")
    done = single(folder, folder / "out.png")
    assert done.returncode == 0, done.stderr
    assert not dead.exists()
    assert alive.exists() and foreign.exists() and other_target.exists()


def test_sigterm_is_a_cancellation_with_a_message(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs a named pipe")
    photo = tmp_path / "photo.png"
    os.mkfifo(photo)  # reading it blocks until this test opens the other end
    Image.fromarray(make_mask(20, 20)).save(tmp_path / "mask.png")
    process = subprocess.Popen(
        [sys.executable, "-m", "restorer_app.cli", "inpaint", str(photo), "--mask", str(tmp_path / "mask.png"),
         "-o", str(tmp_path / "out.png"), "--method", "telea"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, RESTORER_MODEL_PATH=""))
    with open(photo, "wb"):  # returns once the CLI has opened the pipe to read the photo
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "cancelled" in stderr and "Traceback" not in stderr
    assert sorted(os.listdir(tmp_path)) == ["mask.png", "photo.png"]


# ------------------------------------------------------------ consistency of image and record


def _outcome(folder: Path) -> tuple[str, str]:
    """(image sha256, what its sidecar says about it) after a run."""
    sidecar = folder / "out.png.restorer.json"
    recorded = json.loads(sidecar.read_text())["output"]["sha256"] if sidecar.exists() else "no sidecar"
    return sha(folder / "out.png"), recorded


def _run_in_process(folder: Path, *extra) -> int:
    return cli.main(["inpaint", str(folder / "photo.png"), "--mask", str(folder / "mask.png"),
                     "-o", str(folder / "out.png"), "--overwrite", *extra])


@pytest.mark.parametrize("stop_before", ["out.png.restorer.json", "out.png"])
def test_a_run_stopped_between_renames_never_leaves_a_new_image_with_the_old_record(scan, monkeypatch, stop_before):
    folder, _, _ = scan
    assert _run_in_process(folder, "--method", "telea") == 0
    old_image = sha(folder / "out.png")
    real_replace = os.replace

    def killed_before(source, target, *args, **kwargs):
        if Path(target).name == stop_before:
            raise KeyboardInterrupt  # the process stops here, as a kill would stop it
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", killed_before)
    assert _run_in_process(folder, "--method", "ns", "--seed", "3") == 130
    monkeypatch.undo()
    image, recorded = _outcome(folder)
    assert recorded in (image, "no sidecar")  # never the previous run's record beside another image
    assert image != old_image or recorded in (old_image, "no sidecar")
    checked = restorer("verify", folder / "out.png")
    assert checked.returncode == 1 and "incomplete" in checked.stderr
    assert not [name for name in os.listdir(folder) if name.endswith(".part")]
    assert _run_in_process(folder, "--method", "ns") == 0  # the next run repairs the pair
    assert restorer("verify", folder / "out.png").returncode == 0


def test_a_full_disk_while_writing_the_record_keeps_the_previous_pair(scan, monkeypatch):
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to tell which file is being flushed")
    folder, _, _ = scan
    assert _run_in_process(folder, "--method", "telea", "--save-synthesized-mask") == 0
    before = {name: sha(folder / name) for name in os.listdir(folder)}
    real_fsync = os.fsync

    def disk_full_on_the_record(fd):
        if ".restorer.json" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_record)
    assert _run_in_process(folder, "--method", "ns", "--save-synthesized-mask") == 1
    monkeypatch.undo()
    assert {name: sha(folder / name) for name in os.listdir(folder)} == before
    assert restorer("verify", folder / "out.png").returncode == 0


# ------------------------------------------------------------------------------ verify


def test_verify_names_the_fill_and_checks_every_part(scan):
    folder, _, mask = scan
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "out.png",
                    "--method", "ns", "--seed", "7", "--save-synthesized-mask")
    assert done.returncode == 0, done.stderr
    checked = restorer("verify", folder / "out.png")
    assert checked.returncode == 0, checked.stderr
    assert "consistent" in checked.stdout and "embedded XMP" in checked.stdout and "synthesized mask" in checked.stdout
    assert "Navier-Stokes" in checked.stdout and f"{np.count_nonzero(mask)} pixels" in checked.stdout
    assert "seed 7" in checked.stdout


def _export(folder: Path, name: str, method: str) -> Path:
    done = restorer("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / name,
                    "--method", method, "--save-synthesized-mask")
    assert done.returncode == 0, done.stderr
    return folder / name


def test_verify_reports_a_missing_sidecar(scan):
    out = _export(scan[0], "out.png", "telea")
    (scan[0] / "out.png.restorer.json").unlink()
    checked = restorer("verify", out)
    assert checked.returncode == 1 and "no sidecar" in checked.stderr and "incomplete" in checked.stderr


def test_verify_reports_a_changed_image(scan):
    out = _export(scan[0], "out.png", "telea")
    pixels = np.asarray(Image.open(out)).copy()
    pixels[0, 0] ^= 1
    Image.fromarray(pixels).save(out)
    checked = restorer("verify", out)
    assert checked.returncode == 1 and "does not match its sidecar" in checked.stderr


def test_verify_reports_a_sidecar_of_another_export(scan):
    folder = scan[0]
    first, second = _export(folder, "one.png", "telea"), _export(folder, "two.png", "ns")
    record = json.loads((folder / "two.png.restorer.json").read_text())
    record["output"] = {"name": "one.png", "sha256": sha(first)}  # a checksum forged to fit
    (folder / "one.png.restorer.json").write_text(json.dumps(record))
    checked = restorer("verify", first)
    assert checked.returncode == 1 and "XMP" in checked.stderr
    assert restorer("verify", second).returncode == 0


def test_verify_reports_a_replaced_synthesized_mask(scan):
    folder = scan[0]
    out = _export(folder, "out.png", "telea")
    Image.fromarray(np.zeros((120, 160), np.uint8)).save(folder / "out.synthesized.png")
    checked = restorer("verify", out)
    assert checked.returncode == 1 and "synthesized-pixels mask" in checked.stderr


# ------------------------------------------------------------------ the writer the GUI shares


def test_the_shared_writer_never_replaces_another_exports_mask(tmp_path):
    from restorer_app.engine.errors import ImageWriteError
    from restorer_app.engine.export import export_with_record, verify_output
    from restorer_app.engine.imageio import ImageInfo, RasterImage

    image = RasterImage(make_photo(30, 40), ImageInfo("PNG", 8))
    holes = make_mask(30, 40)
    export_with_record(image, tmp_path / "x.tif", [], source=None, synthesized=holes)
    owned = sha(tmp_path / "x.synthesized.png")
    with pytest.raises(ImageWriteError, match="synthesized-pixels mask of 'x.tif'"):
        export_with_record(image, tmp_path / "x.png", [], source=None, synthesized=holes)
    with pytest.raises(ImageWriteError, match="synthesized-pixels mask of 'x.tif'"):
        export_with_record(image, tmp_path / "x.synthesized.png", [], source=None)
    with pytest.raises(ImageWriteError, match="already exists"):
        export_with_record(image, tmp_path / "x.tif", [], source=None, overwrite=False)
    assert sha(tmp_path / "x.synthesized.png") == owned
    assert sorted(os.listdir(tmp_path)) == ["x.synthesized.png", "x.tif", "x.tif.restorer.json"]
    assert verify_output(tmp_path / "x.tif").checked == ("sha256", "synthesized mask")  # no fills: no XMP event
