"""A reader of Qt binary resource files (``.rcc``), so training-data preparation can take the
photos out of packages that ship them this way without loading Qt.

Layout (Qt's ``rcc`` format, versions 1–3): the header ``qres``, then big-endian 32-bit
version, tree offset, data offset and names offset (version 3 adds a flags word). The tree is
an array of fixed-size nodes, node 0 the root directory. A node holds a name offset, 16-bit
flags and, for a directory, its child count and first child index, or for a file its locale and
data offset (versions ≥ 2 add a 64-bit modification time). A name is a 16-bit length, a 32-bit
hash and UTF-16BE characters. A data entry is a 32-bit size then the bytes; zlib-compressed
entries start with the 32-bit uncompressed size (Qt's ``qCompress`` format).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

COMPRESSED, DIRECTORY, COMPRESSED_ZSTD = 0x1, 0x2, 0x4


class RccError(ValueError):
    """The file is not a Qt resource file this reader understands."""


class RccFile:
    """The files inside one ``.rcc``, by resource path (``images/cat.webp``)."""

    def __init__(self, blob: bytes) -> None:
        if blob[:4] != b"qres" or len(blob) < 20:
            raise RccError("not a Qt resource file (no 'qres' header)")
        self.version, self._tree, self._data, self._names = struct.unpack(">IIII", blob[4:20])
        if self.version not in (1, 2, 3):
            raise RccError(f"unsupported Qt resource version {self.version}")
        self._blob = blob
        self._node_size = 14 if self.version == 1 else 22
        self.entries: dict[str, tuple[int, int]] = {}  # path -> (flags, data offset)
        self._walk(0, "")

    @classmethod
    def open(cls, path: Path) -> "RccFile":
        return cls(Path(path).read_bytes())

    def _name(self, offset: int) -> str:
        start = self._names + offset
        (length,) = struct.unpack(">H", self._blob[start:start + 2])
        return self._blob[start + 6:start + 6 + 2 * length].decode("utf-16-be")

    def _walk(self, index: int, prefix: str, depth: int = 0) -> None:
        if depth > 64:
            raise RccError("resource tree too deep (corrupt file?)")
        at = self._tree + index * self._node_size
        name_offset, flags = struct.unpack(">IH", self._blob[at:at + 6])
        name = "" if index == 0 else self._name(name_offset)
        path = f"{prefix}/{name}" if prefix else name
        if flags & DIRECTORY:
            count, first = struct.unpack(">II", self._blob[at + 6:at + 14])
            for child in range(first, first + count):
                self._walk(child, path, depth + 1)
        else:
            (data_offset,) = struct.unpack(">I", self._blob[at + 10:at + 14])
            self.entries[path] = (flags, data_offset)

    def names(self) -> list[str]:
        return sorted(self.entries)

    def read(self, path: str) -> bytes:
        """The uncompressed bytes of one file."""
        flags, offset = self.entries[path]
        start = self._data + offset
        (size,) = struct.unpack(">I", self._blob[start:start + 4])
        raw = self._blob[start + 4:start + 4 + size]
        if flags & COMPRESSED_ZSTD:
            raise RccError(f"{path} is zstd-compressed, which this reader does not handle")
        if flags & COMPRESSED:
            (expected,) = struct.unpack(">I", raw[:4])
            data = zlib.decompress(raw[4:])
            if len(data) != expected:
                raise RccError(f"{path}: {len(data)} bytes uncompressed, header says {expected}")
            return data
        return raw
