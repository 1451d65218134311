"""The XMP packet Restorer embeds: the source's packet with everything in it kept, plus one
``xmpMM:History`` event per operation (fill or restore) and Restorer's own summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .image_formats import HISTORY_KEY
from .provenance import RESTORE_ACTION, Operation, app_version, embedded_tags, now_iso, synthesized_pixels

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "restorer": "urn:restorer:provenance:1.0#",
}
for _prefix, _uri in _NS.items():
    ET.register_namespace(_prefix, _uri)


def qname(prefix: str, name: str) -> str:
    """``{namespace}name``, as ElementTree spells an XMP prefix's qualified name."""
    return f"{{{_NS[prefix]}}}{name}"


def xmp_packet(operations: list[Operation], source_xmp: bytes | None = None, record_id: str | None = None) -> bytes:
    """The XMP packet to embed: the source's packet (everything in it kept) plus one
    ``xmpMM:History`` event per fill, the modify date, and Restorer's own summary
    (``restorer:Retouched``, ``restorer:SynthesizedPixels``, ``restorer:History`` and, when
    given, ``restorer:RecordId``, the id of the sidecar written with this file).

    A source packet that is not well-formed XML is replaced rather than failing the export.
    """
    root = parse_xmp(source_xmp)
    rdf = root.find(qname("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, qname("rdf", "RDF"))
    descriptions = rdf.findall(qname("rdf", "Description"))
    if not descriptions:
        descriptions = [ET.SubElement(rdf, qname("rdf", "Description"), {qname("rdf", "about"): ""})]
    history = None
    for description in descriptions:
        for name in ("ModifyDate", "MetadataDate"):
            description.attrib.pop(qname("xmp", name), None)
            for element in description.findall(qname("xmp", name)):
                description.remove(element)
        for name in ("Retouched", "SynthesizedPixels", "History", "RecordId"):
            description.attrib.pop(qname("restorer", name), None)
            for element in description.findall(qname("restorer", name)):
                description.remove(element)
        history = history if history is not None else description.find(qname("xmpMM", "History"))
    target = descriptions[0]
    if history is None:
        history = ET.SubElement(target, qname("xmpMM", "History"))
    sequence = history.find(qname("rdf", "Seq"))
    if sequence is None:
        sequence = ET.SubElement(history, qname("rdf", "Seq"))
    agent = f"Restorer {app_version()}"
    for op in operations:
        event = ET.SubElement(sequence, qname("rdf", "li"), {qname("rdf", "parseType"): "Resource"})
        model = f", model {op.model_id} {op.model_version} sha256 {op.model_sha256}" if op.model_id else ""
        if op.is_restore:
            fields = {"action": "edited", "when": op.time, "softwareAgent": agent, "changed": "/",
                      "parameters": f"restored the whole photo with {op.method_label}{model}: {op.restore_summary}; "
                                    f"{op.pixels_changed} pixels changed"}
            for name, value in fields.items():
                ET.SubElement(event, qname("stEvt", name)).text = value
            continue
        if op.detector_id:
            model += (f", mask detected by {op.detector_summary} sha256 {op.detector_sha256} "
                      f"({op.detected_pixels} pixels flagged)")
        said = f", description \"{op.description}\"" if op.description else ""
        said += ", colour matched" if op.colour_matched else ""
        said += f", grain {op.grain:g}" if op.grain else ""
        said += ", quick (one model run)" if op.quick else ""
        if op.generator_id:
            said += (f", {op.pixels_generated} pixels of torn edges and large losses by {op.generator_id} "
                     f"{op.generator_version} sha256 {op.generator_sha256}")
        said += f", variation {op.variation}" if op.variation else ""
        said += f", {op.no_source_pixels} pixels kept out of copying" if op.no_source_pixels else ""
        if op.is_extend:
            said += (f", canvas extended by {op.extend_top},{op.extend_right},{op.extend_bottom},{op.extend_left} px "
                     "(top, right, bottom, left)")
        fields = {"action": "edited", "when": op.time, "softwareAgent": agent, "changed": "/",
                  "parameters": f"inpainted {op.pixels_changed} pixels with {op.method_label}{model}{said}, "
                                f"seed {op.seed}, mask sha256 {op.mask_sha256}"}
        for name, value in fields.items():
            ET.SubElement(event, qname("stEvt", name)).text = value
    now = now_iso()
    target.set(qname("xmp", "ModifyDate"), now)
    target.set(qname("xmp", "MetadataDate"), now)
    target.set(qname("restorer", "Retouched"), "True")
    target.set(qname("restorer", "SynthesizedPixels"), str(synthesized_pixels(operations)))
    target.set(qname("restorer", "History"), embedded_tags(operations)[HISTORY_KEY])
    if record_id:
        target.set(qname("restorer", "RecordId"), record_id)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>').encode("utf-8")


def event_marks(op: dict) -> tuple[str, ...]:
    """What the history event of a recorded operation (a sidecar's dict) must say for
    :func:`~restorer_app.engine.export.verify_output` to take it as that operation's."""
    if op.get("action") == RESTORE_ACTION:
        return ("restored the whole photo", f"sha256 {op.get('model_sha256')}",
                f"; {op.get('pixels_changed')} pixels changed")
    return f"inpainted {op.get('pixels_changed')} pixels", f"mask sha256 {op.get('mask_sha256')}"


def parse_xmp(packet: bytes | None) -> ET.Element:
    """The packet's ``x:xmpmeta`` element (defusedxml: a file's XMP is untrusted input), or a
    new empty one."""
    if packet:
        import defusedxml.ElementTree as SafeET

        text = packet.decode("utf-8", "replace").strip("\x00 \t\r\n")
        start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
        if start >= 0 and end > start:
            try:
                root = SafeET.fromstring(text[start:end + len("</x:xmpmeta>")])
                if root.tag == qname("x", "xmpmeta"):
                    return root
            except (ET.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
                pass
    return ET.Element(qname("x", "xmpmeta"))
