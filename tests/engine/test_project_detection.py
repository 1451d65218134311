"""Detected damage in project files: the probability map is kept losslessly with the detector,
the threshold and the user's erasures; a project without it opens; a damaged one is refused
with a sentence."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from restorer_app.engine.detection import DamageMap
from restorer_app.engine.project import (EXCLUDED_MEMBER, PROBABILITY_MEMBER, DamageProposal, Project, ProjectError,
                                         load_project, save_project)

SHA = "cd" * 32


def _proposal(height=30, width=40) -> DamageProposal:
    rng = np.random.default_rng(3)
    probability = rng.integers(0, 256, (height, width), dtype=np.uint8)  # every level, so any loss shows
    excluded = np.zeros((height, width), np.uint8)
    excluded[5:9, 10:30] = 255
    return DamageProposal(DamageMap(probability, "restorer-detect", "1.2", "ef" * 32), 0.35, excluded)


def _project(tmp_path, proposal=None) -> Project:
    return Project(tmp_path / "scan.png", SHA, np.zeros((30, 40), np.uint8), [], 0, None, proposal)


def test_the_proposal_round_trips_exactly(tmp_path):
    proposal = _proposal()
    path = save_project(_project(tmp_path, proposal), tmp_path / "work.restorer")
    loaded = load_project(path).proposal
    assert loaded is not None
    np.testing.assert_array_equal(loaded.damage.probability, proposal.damage.probability)
    np.testing.assert_array_equal(loaded.excluded, proposal.excluded)
    assert (loaded.damage.model_id, loaded.damage.model_version, loaded.damage.model_sha256) == \
        ("restorer-detect", "1.2", "ef" * 32)
    assert loaded.threshold == 0.35


def test_a_project_without_a_proposal_has_none_and_stores_no_map(tmp_path):
    path = save_project(_project(tmp_path), tmp_path / "plain.restorer")
    with zipfile.ZipFile(path) as archive:
        assert PROBABILITY_MEMBER not in archive.namelist()
        assert "proposal" not in json.loads(archive.read("project.json"))
    assert load_project(path).proposal is None


def test_the_snapshot_does_not_follow_later_erasures():
    proposal = _proposal()
    snapshot = proposal.snapshot()
    proposal.excluded[:] = 255
    proposal.threshold = 0.9
    assert not snapshot.excluded[0, 0] and snapshot.threshold == 0.35


def _members(tmp_path) -> dict[str, bytes]:
    path = save_project(_project(tmp_path, _proposal()), tmp_path / "valid.restorer")
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _write(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _broken(tmp_path, change_proposal=None, change_members=None):
    """The valid project with its proposal record or its members changed."""
    members = _members(tmp_path)
    meta = json.loads(members["project.json"])
    if change_proposal is not None:
        change_proposal(meta["proposal"])
    members["project.json"] = json.dumps(meta).encode()
    if change_members is not None:
        change_members(members)
    return _write(tmp_path / "bad.restorer", members)


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("change, words", [
    (lambda p: p.update(threshold=1.5), "threshold that is not between 0 and 1"),
    (lambda p: p.update(threshold="high"), "threshold that is not between 0 and 1"),
    (lambda p: p.update(threshold=True), "threshold that is not between 0 and 1"),
    (lambda p: p.pop("model_id"), "does not say which detector made it"),
    (lambda p: p.update(model_sha256=7), "does not say which detector made it"),
    (lambda p: p.update(probability="proposal/nothing.png"), "'proposal/nothing.png' is missing"),
    (lambda p: p.update(excluded=PROBABILITY_MEMBER), "used by more than one"),
])
def test_a_damaged_proposal_record_is_refused_with_a_sentence(tmp_path, change, words):
    path = _broken(tmp_path, change_proposal=change)
    with pytest.raises(ProjectError) as raised:
        load_project(path)
    assert "bad.restorer" in str(raised.value) and words in str(raised.value)


def test_a_proposal_that_is_not_a_record_is_refused(tmp_path):
    members = _members(tmp_path)
    meta = json.loads(members["project.json"])
    meta["proposal"] = [1, 2]
    members["project.json"] = json.dumps(meta).encode()
    path = _write(tmp_path / "bad.restorer", members)
    with pytest.raises(ProjectError, match="proposed damage mask is not described"):
        load_project(path)


@pytest.mark.parametrize("member, data, words", [
    (PROBABILITY_MEMBER, _png(np.zeros((4, 4), np.uint8)), "is 4x4, not the 40x30 of the project's mask"),
    (EXCLUDED_MEMBER, _png(np.zeros((30, 40, 3), np.uint8)), "not a one-channel image"),
    (PROBABILITY_MEMBER, b"not a png", "not a readable PNG"),
])
def test_a_damaged_proposal_image_is_refused_with_a_sentence(tmp_path, member, data, words):
    path = _broken(tmp_path, change_members=lambda members: members.update({member: data}))
    with pytest.raises(ProjectError) as raised:
        load_project(path)
    assert "bad.restorer" in str(raised.value) and words in str(raised.value)
