"""The model registry: manifests, checksums and signature checks.

A model folder holds ``manifest.json`` and the files it lists. The bundled folder ships
with the app; users may add folders of their own in the same format. Nothing is trusted
until it is verified: the file's sha256 must match, the manifest's inputs and outputs must be
those of the model's kind (kinds.py), and the inputs and outputs ONNX Runtime reports must
match what the manifest promises.
"""

from __future__ import annotations

import enum
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import ModelCorruptError, ModelError, ModelMissingError, ModelSignatureError
from .files import sha256_file
from .kinds import ModelKind, check_kind_signature
from .runtime import Device, LoadedSession, SessionFactory

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


class Prefill(enum.Enum):
    """Classical fill the app computes inside the hole before the network sees it."""

    NONE = "none"
    TELEA = "telea"
    NS = "ns"


class ModelStatus(enum.Enum):
    READY = "ready"
    MISSING = "missing"
    CORRUPT = "corrupt"


_ORT_DTYPES = {"float32": "tensor(float)", "float16": "tensor(float16)", "int64": "tensor(int64)"}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str = "float32"
    layout: str = "NCHW"
    channels: int | None = None
    value_range: tuple[float, float] | None = None

    @classmethod
    def parse(cls, raw: dict) -> "TensorSpec":
        rng = raw.get("range")
        return cls(
            name=str(raw["name"]),
            dtype=str(raw.get("dtype", "float32")),
            layout=str(raw.get("layout", "NCHW")),
            channels=int(raw["channels"]) if raw.get("channels") is not None else None,
            value_range=(float(rng[0]), float(rng[1])) if rng else None,
        )


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    version: str
    kind: ModelKind
    path: Path
    sha256: str
    size: int
    licence: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    prefill: Prefill = Prefill.NONE
    size_multiple: int = 8
    max_side: int = 1024
    text_embedding_size: int | None = None
    default: bool = False
    description: str = ""
    card: Path | None = None

    def input(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    @property
    def uses_text(self) -> bool:
        return self.text_embedding_size is not None


def parse_entry(raw: dict, folder: Path) -> ModelEntry:
    """One manifest entry -> :class:`ModelEntry`; raises ``ModelCorruptError`` if malformed."""
    try:
        card = raw.get("card")
        return ModelEntry(
            id=str(raw["id"]),
            name=str(raw.get("name", raw["id"])),
            version=str(raw["version"]),
            kind=ModelKind(raw["kind"]),
            path=folder / str(raw["file"]),
            sha256=str(raw["sha256"]).lower(),
            size=int(raw["size"]),
            licence=str(raw.get("licence", "unknown")),
            inputs=tuple(TensorSpec.parse(spec) for spec in raw["inputs"]),
            outputs=tuple(TensorSpec.parse(spec) for spec in raw["outputs"]),
            prefill=Prefill(raw.get("prefill", "none")),
            size_multiple=int(raw.get("size_multiple", 8)),
            max_side=int(raw.get("max_side", 1024)),
            text_embedding_size=int(raw["text_embedding_size"]) if raw.get("text_embedding_size") else None,
            default=bool(raw.get("default", False)),
            description=str(raw.get("description", "")),
            card=folder / card if card else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
        raise ModelCorruptError(f"The manifest entry for model '{ident}' in {folder} is invalid: {exc}.") from None


def read_manifest(folder: Path) -> list[ModelEntry]:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelMissingError(f"The model folder {folder} has no {MANIFEST}.") from None
    except (OSError, ValueError) as exc:
        raise ModelCorruptError(f"{path} cannot be read: {exc}.") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ModelCorruptError(f"{path} is not a Restorer model manifest (format {MANIFEST_FORMAT}).")
    return [parse_entry(raw, folder) for raw in data.get("models", [])]


def check_signature(entry: ModelEntry, session) -> None:
    """Compare ONNX Runtime's view of the model with the manifest; raise on any difference."""
    for side, promised, actual in (
        ("input", entry.inputs, session.get_inputs()),
        ("output", entry.outputs, session.get_outputs()),
    ):
        actual_by_name = {arg.name: arg for arg in actual}
        if set(actual_by_name) != {spec.name for spec in promised}:
            raise ModelSignatureError(
                f"Model '{entry.id}' has {side}s {sorted(actual_by_name)} but its manifest promises "
                f"{sorted(spec.name for spec in promised)}."
            )
        for spec in promised:
            arg = actual_by_name[spec.name]
            expected_type = _ORT_DTYPES.get(spec.dtype, spec.dtype)
            if arg.type != expected_type:
                raise ModelSignatureError(
                    f"Model '{entry.id}' {side} '{spec.name}' is {arg.type}, not {spec.dtype} as its manifest says."
                )
            if len(arg.shape) != len(spec.layout):
                raise ModelSignatureError(
                    f"Model '{entry.id}' {side} '{spec.name}' has {len(arg.shape)} dimensions, "
                    f"not {len(spec.layout)} ({spec.layout})."
                )
            if spec.channels is not None and "C" in spec.layout:
                dim = arg.shape[spec.layout.index("C")]
                if isinstance(dim, int) and dim != spec.channels:
                    raise ModelSignatureError(
                        f"Model '{entry.id}' {side} '{spec.name}' has {dim} channels, not {spec.channels}."
                    )


@dataclass(frozen=True)
class LoadedModel:
    entry: ModelEntry
    runtime: LoadedSession

    @property
    def session(self):
        return self.runtime.session


class ModelRegistry:
    """All models from the given folders. Earlier folders win on duplicate ids (the bundled
    folder comes first, so a file dropped into a user folder cannot silently replace a shipped
    model), and every id that is shadowed so is named in :attr:`problems`."""

    def __init__(self, folders: Sequence[Path], sessions: SessionFactory | None = None) -> None:
        self.folders = [Path(f) for f in folders]
        self.sessions = sessions or SessionFactory()
        self.problems: list[str] = []
        #: Per model id, a sentence saying which copy is used and which were ignored.
        self.shadowed: dict[str, str] = {}
        self._entries: dict[str, ModelEntry] = {}
        self._verified: dict[tuple, bool] = {}
        self._lock = threading.Lock()
        for folder in self.folders:
            if not (folder / MANIFEST).is_file():
                continue
            try:
                entries = read_manifest(folder)
            except (ModelMissingError, ModelCorruptError) as exc:
                self.problems.append(str(exc))
                continue
            for entry in entries:
                kept = self._entries.setdefault(entry.id, entry)
                if kept is not entry:
                    self._note_shadowed(kept, entry)

    def _note_shadowed(self, kept: ModelEntry, ignored: ModelEntry) -> None:
        sentence = (f"Two model folders hold a model '{kept.id}': the one in {kept.path.parent} "
                    f"(version {kept.version}) is used and the one in {ignored.path.parent} (version "
                    f"{ignored.version}) is ignored; give the ignored one another id to use it.")
        if sentence not in self.problems:
            self.problems.append(sentence)
        self.shadowed[kept.id] = sentence

    def entries(self, kind: ModelKind | None = None) -> list[ModelEntry]:
        return [e for e in self._entries.values() if kind is None or e.kind is kind]

    def get(self, model_id: str) -> ModelEntry:
        try:
            return self._entries[model_id]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none installed"
            raise ModelMissingError(f"There is no model '{model_id}' (known models: {known}).") from None

    def status(self, entry: ModelEntry) -> ModelStatus:
        """Quick status (file present with the recorded size); :meth:`verify` checks the hash."""
        try:
            size = entry.path.stat().st_size
        except OSError:
            return ModelStatus.MISSING
        return ModelStatus.READY if size == entry.size else ModelStatus.CORRUPT

    def default_entry(self, kind: ModelKind) -> ModelEntry | None:
        """The entry marked default for ``kind``, else the first of that kind, whatever the state
        of its file: a damaged or missing default must be reported, never quietly skipped."""
        entries = self.entries(kind)
        return next((e for e in entries if e.default), entries[0] if entries else None)

    def problem(self, entry: ModelEntry) -> str | None:
        """Why ``entry`` cannot be used (missing, truncated, replaced, or not the inputs and
        outputs its kind needs), or None when it verifies."""
        try:
            check_kind_signature(entry)
            self.verify(entry)
        except ModelError as exc:
            return str(exc)
        return None

    def verify(self, entry: ModelEntry) -> None:
        """Raise unless the file exists and its sha256 matches the manifest (cached per file state)."""
        try:
            stat = entry.path.stat()
        except OSError:
            raise ModelMissingError(
                f"The file for model '{entry.id}' ({entry.path.name}) is missing from {entry.path.parent}."
            ) from None
        if stat.st_size != entry.size:
            raise ModelCorruptError(
                f"The file for model '{entry.id}' ({entry.path.name}) is {stat.st_size:,} bytes instead of the "
                f"{entry.size:,} its manifest records: it is truncated or was replaced; reinstall it."
            )
        key = (str(entry.path), stat.st_mtime_ns, stat.st_size, entry.sha256)
        with self._lock:
            if self._verified.get(key):
                return
        try:
            actual = sha256_file(entry.path)
        except OSError as exc:
            raise ModelCorruptError(
                f"The file for model '{entry.id}' ({entry.path}) cannot be read: {exc.strerror or exc}."
            ) from None
        if actual != entry.sha256:
            raise ModelCorruptError(
                f"The file for model '{entry.id}' is damaged or was replaced (sha256 {actual[:12]}... "
                f"instead of {entry.sha256[:12]}...); reinstall it."
            )
        with self._lock:
            self._verified[key] = True

    def open(self, model_id: str, device: Device = Device.AUTO) -> LoadedModel:
        """Verify and load a model; the result says which provider runs it."""
        entry = self.get(model_id)
        self.verify(entry)
        check_kind_signature(entry)
        loaded = self.sessions.load(entry.path, device)
        check_signature(entry, loaded.session)
        return LoadedModel(entry, loaded)


def bundled_models_folder() -> Path:
    """The models folder shipped inside the package (works in wheels and frozen builds)."""
    from importlib.resources import files

    return Path(str(files("restorer_app.resources") / "models"))


def user_models_folder() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("Restorer", appauthor=False)) / "models"


def default_model_folders() -> list[Path]:
    """Bundled models, then ``RESTORER_MODEL_PATH`` folders, then the user's models folder."""
    extra = [Path(p) for p in os.environ.get("RESTORER_MODEL_PATH", "").split(os.pathsep) if p]
    return [bundled_models_folder(), *extra, user_models_folder()]
