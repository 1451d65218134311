"""The files module on its own: staged and atomic writes, temporaries, same-file checks, sha256."""

import hashlib
import os
import subprocess
import sys

import pytest

from restorer_app.engine.errors import ImageWriteError
from restorer_app.engine.files import (HOST_TAG, atomic_write, commit_and_sync, is_temporary_of, same_file,
                                       sha256_file, stage_write, stale_temporaries, temp_prefix)


def test_a_staged_file_is_beside_its_target_until_committed(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    staged = stage_write(target, lambda handle: handle.write(b"new"))
    assert staged.temp.parent == tmp_path and is_temporary_of(staged.temp, target)
    assert target.read_bytes() == b"old" and staged.temp.read_bytes() == b"new"
    assert commit_and_sync(staged) == target
    assert target.read_bytes() == b"new" and not staged.temp.exists()
    staged.discard()  # committed already: nothing left to remove, and no error


def test_a_failed_write_leaves_the_target_and_no_temporary(tmp_path):
    target = tmp_path / "project.restorer"
    atomic_write(target, lambda handle: handle.write(b"first"))

    def broken(handle):
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(ImageWriteError, match="No space left on device"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"first"
    assert [path.name for path in tmp_path.iterdir()] == ["project.restorer"]


def test_a_missing_folder_is_a_sentence(tmp_path):
    with pytest.raises(ImageWriteError, match="does not exist"):
        stage_write(tmp_path / "gone" / "out.png", lambda handle: None)


def test_only_temporaries_of_finished_processes_are_stale(tmp_path):
    target = tmp_path / "out.tif"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = tmp_path / f"{temp_prefix(target)}{finished.stdout.strip()}-abcd1234.part"
    mine = tmp_path / f"{temp_prefix(target)}{os.getpid()}-abcd1234.part"
    dead_here = tmp_path / f"{temp_prefix(target)}{finished.stdout.strip()}@{HOST_TAG}-abcd1234.part"
    other_target = tmp_path / f"{temp_prefix(tmp_path / 'other.tif')}{finished.stdout.strip()}-abcd1234.part"
    # Another machine writing to the same shared folder: its pid means nothing here.
    other_machine = tmp_path / f"{temp_prefix(target)}{finished.stdout.strip()}@0f0f0f-abcd1234.part"
    for path in (dead, dead_here, mine, other_target, other_machine):
        path.write_bytes(b"")
    assert sorted(stale_temporaries(target)) == sorted([dead, dead_here])
    atomic_write(target, lambda handle: handle.write(b"x"))
    assert not dead.exists() and not dead_here.exists()
    assert mine.exists() and other_target.exists() and other_machine.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(temp_prefix(target)) and HOST_TAG in p.name]


def test_same_file_sees_through_other_spellings_and_links(tmp_path):
    original = tmp_path / "scan.tif"
    original.write_bytes(b"pixels")
    assert same_file(original, tmp_path / "." / "scan.tif")
    assert same_file(tmp_path / "new.tif", tmp_path / "sub" / ".." / "new.tif")  # neither exists yet
    assert not same_file(original, tmp_path / "scan.png")
    if os.name != "nt":  # symbolic links need privileges there
        link = tmp_path / "link.tif"
        link.symlink_to(original)
        assert same_file(link, original)


def test_sha256_file_reads_in_blocks(tmp_path):
    path = tmp_path / "model.onnx"
    data = os.urandom(3000)
    path.write_bytes(data)
    assert sha256_file(path, chunk=256) == sha256_file(path) == hashlib.sha256(data).hexdigest()
