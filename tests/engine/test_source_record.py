"""The sidecar says how the source was read: which page of a multi-page file, and how CMYK
was converted to RGB."""

import io
import json

import numpy as np
from PIL import Image

from restorer_app.cli import main

from factories import make_mask
from test_imageio_pages_cmyk import _cmyk_file, _three_page_tiff


def test_the_sidecar_records_the_page_read_and_the_colour_conversion(tmp_path):
    _three_page_tiff(tmp_path / "scan.tif")
    (tmp_path / "print.jpg").write_bytes(_cmyk_file("JPEG"))
    Image.fromarray(make_mask(40, 60)).save(tmp_path / "mask.png")
    print_mask = np.zeros((8, 40), np.uint8)
    print_mask[2:5, 2:5] = 255
    Image.fromarray(print_mask).save(tmp_path / "print-mask.png")
    for image, mask in (("scan.tif", "mask.png"), ("print.jpg", "print-mask.png")):
        err = io.StringIO()
        code = main(["inpaint", str(tmp_path / image), "--mask", str(tmp_path / mask),
                     "-o", str(tmp_path / f"out-{image}.png"), "--method", "telea"], io.StringIO(), err)
        assert code == 0, err.getvalue()
    scan = json.loads((tmp_path / "out-scan.tif.png.restorer.json").read_text())["source"]
    assert (scan["name"], scan["page"], scan["page_count"]) == ("scan.tif", 2, 3)
    cmyk = json.loads((tmp_path / "out-print.jpg.png.restorer.json").read_text())["source"]
    assert cmyk["colour_conversion"].startswith("CMYK converted to sRGB with the simple formula")
