"""XMP: every export carries a packet another tool can read; the source's packet is kept."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorer_app.engine.image_formats import XMP_PNG_KEY
from restorer_app.engine.image_write import save_image
from restorer_app.engine.imageio import ImageInfo, RasterImage, load_image
from restorer_app.engine.provenance import Operation
from restorer_app.engine.xmp import xmp_packet

from factories import make_photo

NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "xmpMM": "http://ns.adobe.com/xap/1.0/mm/", "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
      "dc": "http://purl.org/dc/elements/1.1/", "restorer": "urn:restorer:provenance:1.0#",
      "xmp": "http://ns.adobe.com/xap/1.0/"}

SOURCE = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
  xmp:CreatorTool="EpsonScan 2" xmp:ModifyDate="2001-01-01T00:00:00">
 <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">County Archive, all rights reserved</rdf:li></rdf:Alt></dc:rights>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def operation(**overrides) -> Operation:
    values = dict(method="restorer-inpaint", method_label="Restorer inpainting 1.1", model_id="restorer-inpaint",
                  model_version="1.1", model_sha256="ab" * 32, description="clear sky", seed=3, device="CPU",
                  time="2026-11-23T15:00:00+00:00", mask_sha256="cd" * 32, pixels_changed=1234)
    values.update(overrides)
    return Operation(**values)


def parse(packet: bytes) -> ET.Element:
    text = packet.decode("utf-8")
    assert text.startswith("<?xpacket begin=") and text.rstrip().endswith('<?xpacket end="w"?>')
    return ET.fromstring(text[text.index("<x:xmpmeta"):text.index("</x:xmpmeta>") + len("</x:xmpmeta>")])


def events(root: ET.Element) -> list[dict[str, str]]:
    items = root.findall(".//xmpMM:History/rdf:Seq/rdf:li", NS)
    return [{child.tag.split("}")[1]: child.text for child in item} for item in items]


def test_packet_keeps_the_source_and_adds_one_event_per_fill():
    root = parse(xmp_packet([operation(), operation(pixels_changed=10, description="")], SOURCE))
    description = root.find(".//rdf:Description", NS)
    assert description.get(f"{{{NS['xmp']}}}CreatorTool") == "EpsonScan 2"  # the scanner stays credited
    assert root.find(".//dc:rights//rdf:li", NS).text == "County Archive, all rights reserved"
    assert description.get(f"{{{NS['xmp']}}}ModifyDate") != "2001-01-01T00:00:00"
    assert description.get(f"{{{NS['restorer']}}}Retouched") == "True"
    assert description.get(f"{{{NS['restorer']}}}SynthesizedPixels") == "1244"
    first, second = events(root)
    assert first["action"] == "edited" and first["softwareAgent"].startswith("Restorer ")
    assert "1234 pixels" in first["parameters"] and "clear sky" in first["parameters"] and "ab" * 32 in first["parameters"]
    assert "description" not in second["parameters"]


def test_history_accumulates_over_generations_and_bad_packets_are_replaced():
    once = xmp_packet([operation()], SOURCE)
    twice = xmp_packet([operation(pixels_changed=5)], once)
    assert len(events(parse(twice))) == 2
    assert len(parse(twice).findall(".//xmpMM:History", NS)) == 1
    for broken in (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed></x:xmpmeta>", b"not xml at all",
                   b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'):
        assert len(events(parse(xmp_packet([operation()], broken)))) == 1


def read_xmp_with_other_libraries(path) -> bytes:
    """Read the packet the way other tools do: tifffile for TIFF, Pillow's raw chunks otherwise."""
    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tif:
            return bytes(tif.pages[0].tags[700].value)
    with Image.open(path) as image:
        if image.format == "PNG":
            return image.text[XMP_PNG_KEY].encode("utf-8")
        return image.info["xmp"]


@pytest.mark.parametrize("ext, dtype", [(".png", np.uint8), (".png", np.uint16), (".tif", np.uint8),
                                        (".tif", np.uint16), (".jpg", np.uint8), (".webp", np.uint8)])
def test_every_writable_format_carries_the_packet_and_reads_it_back(tmp_path, ext, dtype):
    source = tmp_path / f"source{ext}"
    save_image(RasterImage(make_photo(40, 48, 3, dtype), ImageInfo("PNG", 16 if dtype == np.uint16 else 8, xmp=SOURCE)), source)
    loaded = load_image(source)
    assert b"EpsonScan 2" in loaded.info.xmp  # read back by Restorer
    assert XMP_PNG_KEY not in loaded.info.text  # not duplicated as a plain text chunk
    out = tmp_path / f"out{ext}"
    save_image(loaded, out, xmp=xmp_packet([operation()], loaded.info.xmp))
    root = parse(read_xmp_with_other_libraries(out))
    assert root.find(".//dc:rights//rdf:li", NS).text.startswith("County Archive")
    assert len(events(root)) == 1
