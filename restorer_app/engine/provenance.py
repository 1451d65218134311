"""What archivists must be able to document: which pixels were synthesized, how, and by what.

Every exported image gets embedded tags (software and a one-line history), an XMP packet (the
source's, kept, with an ``xmpMM:History`` event per fill added) and a sidecar JSON beside it with
checksums of the source and the output and one record per operation.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .imageio import HISTORY_KEY, atomic_write
from .registry import sha256_file

SIDECAR_SUFFIX = ".restorer.json"
SIDECAR_FORMAT = 1


def _version() -> str:
    from restorer_app import __version__

    return __version__


@dataclass(frozen=True)
class Operation:
    """One fill, as it must be recorded."""

    method: str
    method_label: str
    model_id: str | None
    model_version: str | None
    model_sha256: str | None
    description: str
    seed: int
    device: str
    time: str
    mask_sha256: str
    pixels_changed: int
    feather: int = 0
    #: Of ``pixels_changed``, those that ``auto`` filled classically (thin scratches and dust
    #: on a large job); the rest came from the model.
    pixels_classical: int = 0
    #: The learned fill's colour was matched to its surroundings (blend.harmonize_fill).
    colour_matched: bool = False
    #: Grain matching strength applied to the learned fill (engine/grain.py); 0 = none.
    grain: float = 0.0
    #: The learned fill ran the model once per hole, not on the crop and its mirror image.
    quick: bool = False


def operation_for(result, request, mask: np.ndarray) -> Operation:
    """The record of one :class:`~restorer_app.engine.pipeline.FillResult`."""
    model = result.model
    return Operation(
        method=result.method_id,
        method_label=result.method_label,
        model_id=model.id if model else None,
        model_version=model.version if model else None,
        model_sha256=model.sha256 if model else None,
        description=request.prompt,
        seed=request.seed,
        device=result.provider,
        time=now_iso(),
        mask_sha256=mask_sha256(mask),
        pixels_changed=result.changed_pixels,
        feather=request.feather,
        pixels_classical=result.classical_pixels,
        colour_matched=request.harmonize and model is not None,
        grain=request.grain if model is not None else 0.0,
        quick=request.quick and model is not None,
    )


def mask_sha256(mask: np.ndarray) -> str:
    """Checksum of a mask's content (shape + binary values), independent of file format."""
    digest = hashlib.sha256(f"{mask.shape[0]}x{mask.shape[1]}:".encode())
    digest.update(np.packbits(mask > 0).tobytes())
    return digest.hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def embedded_tags(operations: list[Operation]) -> dict[str, str]:
    """Text tags written into the output file itself (PNG text, TIFF/EXIF Software + description)."""
    methods = sorted({op.method_label for op in operations})
    count = len(operations)
    history = (
        f"Retouched with Restorer {_version()}: {count} fill{'s' if count != 1 else ''} "
        f"({', '.join(methods)}), {sum(op.pixels_changed for op in operations)} pixels synthesized."
    )
    return {"Software": f"Restorer {_version()}", HISTORY_KEY: history}


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


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def xmp_packet(operations: list[Operation], source_xmp: bytes | None = None) -> bytes:
    """The XMP packet to embed: the source's packet (everything in it kept) plus one
    ``xmpMM:History`` event per fill, the modify date, and Restorer's own summary
    (``restorer:Retouched``, ``restorer:SynthesizedPixels``, ``restorer:History``).

    A source packet that is not well-formed XML is replaced rather than failing the export.
    """
    root = _parse_xmp(source_xmp)
    rdf = root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    descriptions = rdf.findall(_q("rdf", "Description"))
    if not descriptions:
        descriptions = [ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})]
    history = None
    for description in descriptions:
        for name in ("ModifyDate", "MetadataDate"):
            description.attrib.pop(_q("xmp", name), None)
            for element in description.findall(_q("xmp", name)):
                description.remove(element)
        for name in ("Retouched", "SynthesizedPixels", "History"):
            description.attrib.pop(_q("restorer", name), None)
            for element in description.findall(_q("restorer", name)):
                description.remove(element)
        history = history if history is not None else description.find(_q("xmpMM", "History"))
    target = descriptions[0]
    if history is None:
        history = ET.SubElement(target, _q("xmpMM", "History"))
    sequence = history.find(_q("rdf", "Seq"))
    if sequence is None:
        sequence = ET.SubElement(history, _q("rdf", "Seq"))
    agent = f"Restorer {_version()}"
    for op in operations:
        event = ET.SubElement(sequence, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
        model = f", model {op.model_id} {op.model_version} sha256 {op.model_sha256}" if op.model_id else ""
        said = f", description \"{op.description}\"" if op.description else ""
        said += ", colour matched" if op.colour_matched else ""
        said += f", grain {op.grain:g}" if op.grain else ""
        said += ", quick (one model run)" if op.quick else ""
        fields = {"action": "edited", "when": op.time, "softwareAgent": agent, "changed": "/",
                  "parameters": f"inpainted {op.pixels_changed} pixels with {op.method_label}{model}{said}, "
                                f"seed {op.seed}, mask sha256 {op.mask_sha256}"}
        for name, value in fields.items():
            ET.SubElement(event, _q("stEvt", name)).text = value
    now = now_iso()
    target.set(_q("xmp", "ModifyDate"), now)
    target.set(_q("xmp", "MetadataDate"), now)
    target.set(_q("restorer", "Retouched"), "True")
    target.set(_q("restorer", "SynthesizedPixels"), str(sum(op.pixels_changed for op in operations)))
    target.set(_q("restorer", "History"), embedded_tags(operations)[HISTORY_KEY])
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>').encode("utf-8")


def _parse_xmp(packet: bytes | None) -> ET.Element:
    """The packet's ``x:xmpmeta`` element (defusedxml: a file's XMP is untrusted input), or a
    new empty one."""
    if packet:
        import defusedxml.ElementTree as SafeET

        text = packet.decode("utf-8", "replace").strip("\x00 \t\r\n")
        start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
        if start >= 0 and end > start:
            try:
                root = SafeET.fromstring(text[start:end + len("</x:xmpmeta>")])
                if root.tag == _q("x", "xmpmeta"):
                    return root
            except (ET.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
                pass
    return ET.Element(_q("x", "xmpmeta"))


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SIDECAR_SUFFIX)


def write_sidecar(output: Path, source: Path | None, operations: list[Operation],
                  synthesized_mask: Path | None = None, *, source_sha256: str | None = None) -> Path:
    """Write ``<output>.restorer.json`` atomically and return its path.

    ``source_sha256``, when given, is the checksum of the source as it was read (an editor
    that opened it long ago knows it, even if the file has since moved); otherwise the
    source file is hashed now.
    """
    if source is not None and source_sha256 is None:
        source_sha256 = sha256_file(source)
    record = {
        "format": SIDECAR_FORMAT,
        "software": f"Restorer {_version()}",
        "created": now_iso(),
        "source": {"name": source.name, "sha256": source_sha256} if source else None,
        "output": {"name": output.name, "sha256": sha256_file(output)},
        "synthesized_mask": synthesized_mask.name if synthesized_mask else None,
        "operations": [asdict(op) for op in operations],
    }
    path = sidecar_path(output)
    payload = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    atomic_write(path, lambda handle: handle.write(payload))
    return path
