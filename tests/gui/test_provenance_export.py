"""Every exported photo carries its provenance: embedded tags, a sidecar JSON listing the
applied fills (never undone ones), optionally the synthesized-pixels mask; JPEG only when asked."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings

from restorer_app.engine.image_formats import HISTORY_KEY
from restorer_app.engine.imageio import load_image
from restorer_app.engine.masks import load_mask
from restorer_app.engine.provenance import mask_sha256
from restorer_app.engine.files import sha256_file
from restorer_app.gui import dialogs
from restorer_app.gui.main_window import MainWindow

from gui_helpers import fill_and_accept, paint


def sidecar_of(path):
    return json.loads(path.with_name(path.name + ".restorer.json").read_text(encoding="utf-8"))


def test_sidecar_lists_applied_fills_only_and_checksums_the_written_file(qtbot, opened, photo_file, tmp_path):
    first_mask = opened.editor.document.mask.copy()
    fill_and_accept(qtbot, opened)
    paint(opened, [(10, 10), (30, 12)], diameter=5)
    second_mask = opened.editor.document.mask.copy()
    opened.panel.select_method("ns")
    fill_and_accept(qtbot, opened)
    paint(opened, [(100, 80), (110, 85)], diameter=4)
    opened.panel.select_method("telea")
    fill_and_accept(qtbot, opened)
    opened.actions_.undo.trigger()  # the third fill is undone: it must not be recorded

    target = tmp_path / "out.png"
    assert opened.save_as(target)
    record = sidecar_of(target)
    assert record["output"] == {"name": "out.png", "sha256": sha256_file(target)}
    assert record["source"] == {"name": "scan.png", "sha256": sha256_file(photo_file)}
    assert record["synthesized_mask"] is None
    operations = record["operations"]
    assert [op["method"] for op in operations] == ["telea", "ns"]
    assert [op["mask_sha256"] for op in operations] == [mask_sha256(first_mask), mask_sha256(second_mask)]
    assert [op["pixels_changed"] for op in operations] == [np.count_nonzero(first_mask), np.count_nonzero(second_mask)]
    for op in operations:
        assert op["device"] == "CPU (OpenCV)" and op["seed"] == 0 and op["description"] == ""
        assert op["model_id"] is None and op["time"].endswith("+00:00")

    with Image.open(target) as written:  # the tags are readable by any PNG reader
        assert written.text["Software"].startswith("Restorer ")
        assert "2 fills" in written.text[HISTORY_KEY] and "Navier" in written.text[HISTORY_KEY]
        xmp = written.text["XML:com.adobe.xmp"]  # and an XMP packet with one history event per fill
        assert xmp.count("<stEvt:action>edited</stEvt:action>") == 2
    np.testing.assert_array_equal(load_image(target).pixels, opened.editor.document.image.pixels)


def test_synthesized_mask_option_is_remembered_and_written_beside_the_output(qtbot, opened, settings, tmp_path):
    assert not opened.actions_.export_synthesized.isChecked()
    opened.actions_.export_synthesized.trigger()
    assert QSettings(settings.fileName(), QSettings.Format.IniFormat).value("export/synthesized_mask", type=bool)
    holes = opened.editor.document.mask > 0
    fill_and_accept(qtbot, opened)
    paint(opened, [(5, 80), (40, 80)], diameter=3)
    holes |= opened.editor.document.mask > 0
    fill_and_accept(qtbot, opened)

    target = tmp_path / "restored.tif"
    assert opened.save_as(target)
    synthesized = tmp_path / "restored.synthesized.png"
    np.testing.assert_array_equal(load_mask(synthesized), np.where(holes, 255, 0))
    assert sidecar_of(target)["synthesized_mask"] == "restored.synthesized.png"
    assert "restored.synthesized.png" in opened.statusBar().currentMessage()

    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.actions_.export_synthesized.isChecked()
    again.close()


def test_jpeg_asks_quality_warns_and_save_reuses_it(qtbot, opened, tmp_path, dialog_recorder):
    fill_and_accept(qtbot, opened)
    target = tmp_path / "restored.jpg"
    dialog_recorder.jpeg_answers.append(None)  # Cancel: nothing is written
    assert not opened.save_as(target)
    assert not target.exists() and dialog_recorder.jpeg_defaults == [dialogs.DEFAULT_JPEG_QUALITY]

    dialog_recorder.jpeg_answers.append(80)
    assert opened.save_as(target)
    reference = io.BytesIO()
    Image.fromarray(opened.editor.document.image.pixels).save(reference, "JPEG", quality=80)
    with Image.open(target) as written, Image.open(reference) as expected:
        assert written.format == "JPEG" and written.quantization == expected.quantization
        assert written.getexif()[0x0131].startswith("Restorer ")  # Software
        assert "1 fill" in written.getexif()[0x010E]  # ImageDescription
    assert sidecar_of(target)["output"]["sha256"] == sha256_file(target)

    paint(opened, [(3, 3), (9, 3)], diameter=3)
    fill_and_accept(qtbot, opened)
    assert opened.save()  # the same target and quality; the recorder fails if a dialog opens
    assert len(sidecar_of(target)["operations"]) == 2
    dialog_recorder.jpeg_answers.append(None)
    assert not opened.save_as(tmp_path / "other.jpeg")
    assert dialog_recorder.jpeg_defaults == [95, 95, 80]  # the last quality chosen is offered next


def test_png_never_asks_for_a_quality(qtbot, opened, tmp_path, dialog_recorder):
    assert opened.save_as(tmp_path / "plain.png")
    assert dialog_recorder.jpeg_defaults == []


def test_jpeg_dialog_offers_the_quality_and_says_it_is_lossy(qtbot):
    dialog = dialogs.JpegQualityDialog(None, 95)
    qtbot.addWidget(dialog)
    assert dialog.quality == 95
    dialog.slider.setValue(70)
    assert dialog.quality == 70
    assert "JPEG is lossy" in dialog.layout().itemAt(0).widget().text()
