"""Photo preparation: licences from debian/copyright, the photograph filter, user folders."""

import csv

import cv2
import numpy as np

from models.data import licence_for, not_a_photograph, parse_copyright, prepare, read_listing
from models.dataset import DataConfig, synthetic_photo

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: wallpapers

Files: *
Copyright: 2014 Some Group
License: GPL-2+

Files: 16.04/lake_by_Someone.jpg
Copyright: Someone, 2018
License: CC-BY-4.0

Files: nature/*.jpg
Copyright: 2008, A Photographer
 2009, Another One
License: CC0-1.0

Files: debian/*
Copyright: 2020, Packager
License: GPL-2+
 Long licence text
 .
 continues here.
"""


def test_licences_follow_dep5_with_installed_paths(tmp_path):
    path = tmp_path / "copyright"
    path.write_text(COPYRIGHT)
    stanzas = parse_copyright(path)
    # Source folder 16.04/ is installed elsewhere: matched by file name.
    assert licence_for("/usr/share/backgrounds/lake_by_Someone.jpg", stanzas) == ("CC-BY-4.0", "Someone, 2018")
    licence, holder = licence_for("/usr/share/backgrounds/mate/nature/Dune.jpg", stanzas)
    assert licence == "CC0-1.0" and "Another One" in holder
    # debian/* never captures installed images; the catch-all applies.
    assert licence_for("/usr/share/backgrounds/other.png", stanzas)[0] == "GPL-2+"


def test_photograph_filter_rejects_flat_art_and_keeps_photo_like_images():
    flat = np.zeros((400, 600, 3), np.uint8)
    flat[:, 300:] = (200, 40, 40)
    assert "distinct colours" in not_a_photograph(flat) or "grey levels" in not_a_photograph(flat)
    gradient = np.dstack([np.tile(np.linspace(0, 255, 600), (400, 1))] * 3).astype(np.uint8)
    gradient[..., 0] = 255 - gradient[..., 0]
    assert not_a_photograph(gradient) is not None
    assert "too small" in not_a_photograph(np.zeros((100, 100, 3), np.uint8))
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (400, 600, 3)).astype(np.uint8), (0, 0), 1.0)
    assert not_a_photograph(photo) is None


def test_prepare_a_user_folder_with_captions(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for index in range(10):
        image = synthetic_photo(rng, 300, 1400)
        cv2.imwrite(str(folder / f"photo{index}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    (folder / "photo3.txt").write_text("a red ball on grass\n")
    out = tmp_path / "photos"
    records = prepare(out, tmp_path / "cache", [folder], "CC0-1.0", use_debs=False, use_bundled=False, log=lambda *_: None)
    assert len(records) == 10 and {r.split for r in records} <= {"train", "val"}
    listed = {r.id: r for r in read_listing(out)}
    assert listed["user-photo3"].caption == "a red ball on grass"
    assert all(max(r.width, r.height) == 1024 for r in listed.values())  # long side shrunk to 1024
    with open(out / "files.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["licence"] == "CC0-1.0" and row["original_path"].endswith(".jpg")
    # The split is a property of the name, so re-running keeps every photo where it was.
    again = prepare(out, tmp_path / "cache", [folder], "CC0-1.0", use_debs=False, use_bundled=False, log=lambda *_: None)
    assert [r.split for r in again] == [r.split for r in records]


def test_synthetic_dataset_config_needs_no_files():
    from models.dataset import load_photos

    photos, captions = load_photos(DataConfig(photos="synthetic", synthetic_count=3, synthetic_size=40), "train")
    assert len(photos) == 3 and photos[0].dtype == np.uint8 and captions == ["", "", ""]
