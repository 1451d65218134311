"""Damage detection: the probability map over tiles, the masks a threshold gives, and how a
repair (a fill of a detected mask) is recorded."""

import json

import numpy as np
import pytest

from restorer_app.engine.detection import DamageMap
from restorer_app.engine.image_formats import HISTORY_KEY
from restorer_app.engine.provenance import Operation, embedded_tags, with_detection
from restorer_app.engine.xmp import xmp_packet


def fill_record(**overrides) -> Operation:
    values = dict(method="telea", method_label="Telea", model_id=None, model_version=None, model_sha256=None,
                  description="", seed=0, device="CPU (OpenCV)", time="2026-11-23T15:00:00+00:00",
                  mask_sha256="cd" * 32, pixels_changed=40)
    values.update(overrides)
    return Operation(**values)


# ------------------------------------------------------------------------- provenance


def test_a_repair_records_its_detector_threshold_and_grow():
    probability = np.zeros((10, 10), np.uint8)
    probability[2, 2:7] = 200  # 5 px at 0.78
    probability[5, 5] = 100  # 1 px at 0.39
    damage = DamageMap(probability, "restorer-detect", "1.0", "ef" * 32)
    repair = with_detection(fill_record(), damage, 0.5, grow=1)
    assert (repair.detector_id, repair.detector_version, repair.detector_sha256) == ("restorer-detect", "1.0", "ef" * 32)
    assert (repair.detection_threshold, repair.detection_grow, repair.detected_pixels) == (0.5, 1, 5)
    assert with_detection(fill_record(), damage, 0.3).detected_pixels == 6
    assert fill_record().detector_summary is None


def test_the_detector_appears_in_the_xmp_event_and_the_one_line_history():
    damage = DamageMap(np.full((4, 4), 255, np.uint8), "restorer-detect", "1.0", "ef" * 32)
    repair = with_detection(fill_record(), damage, 0.4, grow=2)
    packet = xmp_packet([repair, fill_record()]).decode("utf-8")
    assert "mask detected by restorer-detect 1.0 at threshold 0.4, grown 2 px sha256 " + "ef" * 32 in packet
    assert "(16 pixels flagged)" in packet
    assert packet.count("mask detected by") == 1  # the painted fill says nothing of a detector
    history = embedded_tags([repair])[HISTORY_KEY]
    assert "(Telea; damage found by restorer-detect 1.0 at threshold 0.4, grown 2 px)" in history
    assert "damage found" not in embedded_tags([fill_record()])[HISTORY_KEY]


def test_an_old_record_without_detector_fields_is_still_an_operation():
    old = json.loads(json.dumps({k: v for k, v in fill_record().__dict__.items()
                                 if not k.startswith("detect")}))
    assert Operation(**old).detector_id is None and Operation(**old).detected_pixels == 0
