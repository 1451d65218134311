"""Odd inputs a script or an attacker may hand the CLI: devices, endless pipes, pipes whose
content can only be read once."""

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from PIL import Image

from restorer_app.engine.errors import ImageReadError, ImageTooLargeError
from restorer_app.engine.imageio import load_image

from factories import make_mask, make_photo


def test_a_device_is_refused_without_reading_it():
    with pytest.raises(ImageReadError, match="is a device"):
        load_image("/dev/zero")


def test_endless_input_stops_at_the_size_any_allowed_image_can_have(tmp_path):
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed():
        with open(fifo, "wb") as handle:
            block = b"\0" * (1 << 20)
            try:
                while not stop.is_set():
                    handle.write(block)
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with pytest.raises(ImageTooLargeError, match="larger than"):
            load_image(fifo, max_pixels=1_000_000)  # 1 MP: nothing larger than 264 MiB is read
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not writer.is_alive()


def test_a_source_read_from_a_pipe_is_recorded_by_the_bytes_that_were_read(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(60, 80)).save(photo)
    Image.fromarray(make_mask(60, 80)).save(tmp_path / "mask.png")
    fifo = tmp_path / "piped.png"
    os.mkfifo(fifo)
    done = {}

    def run():
        done["cli"] = subprocess.run(
            [sys.executable, "-m", "restorer_app.cli", "inpaint", str(fifo), "--mask", str(tmp_path / "mask.png"),
             "-o", str(tmp_path / "out.png"), "--method", "telea"], capture_output=True, text=True, timeout=120,
            env=dict(os.environ, RESTORER_MODEL_PATH=""))

    runner = threading.Thread(target=run)
    runner.start()
    with open(fifo, "wb") as handle:  # blocks until the CLI opens the pipe
        handle.write(photo.read_bytes())
    runner.join(timeout=150)
    assert done["cli"].returncode == 0, done["cli"].stderr
    record = json.loads((tmp_path / "out.png.restorer.json").read_text())
    assert record["source"]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()


def _latin1_name(folder, name: bytes):
    return folder / os.fsdecode(name)  # a name from an old Latin-1 archive: not valid UTF-8


def test_file_names_that_are_not_utf8_are_filled_recorded_and_verified(tmp_path):
    source, output = _latin1_name(tmp_path, b"caf\xe9.png"), _latin1_name(tmp_path, b"r\xe9par\xe9.png")
    Image.fromarray(make_photo(60, 80)).save(source)
    Image.fromarray(make_mask(60, 80)).save(tmp_path / "mask.png")
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    run = lambda *args: subprocess.run([os.fsencode(sys.executable), b"-m", b"restorer_app.cli", *args],  # noqa: E731
                                       capture_output=True, timeout=120, env=env)
    done = run(b"inpaint", os.fsencode(source), b"--mask", os.fsencode(tmp_path / "mask.png"), b"-o",
               os.fsencode(output), b"--method", b"telea", b"--save-synthesized-mask")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(os.fsencode(output))  # the name's own bytes, as ls shows them
    with open(os.fsencode(output) + b".restorer.json", "rb") as handle:
        record = json.loads(handle.read())
    assert record["source"]["name"] == "caf\\xe9.png" and record["output"]["name"] == "r\\xe9par\\xe9.png"
    verified = run(b"verify", os.fsencode(output))
    assert verified.returncode == 0, verified.stderr
    assert b"synthesized mask" in verified.stdout


def test_a_project_keeps_a_source_path_that_is_not_utf8_exactly(tmp_path):
    from restorer_app.engine.project import Project, load_project, save_project

    source = _latin1_name(tmp_path, b"caf\xe9.png")
    project = Project(source, "0" * 64, make_mask(20, 30))
    save_project(project, tmp_path / "p.restorer")
    assert load_project(tmp_path / "p.restorer").source_path == source
