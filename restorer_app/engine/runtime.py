"""One factory for ONNX Runtime sessions: explicit provider chains, honest reporting.

onnxruntime-gpu lists CUDA as *available* even where it cannot start, so the provider
actually used is always read back from ``session.get_providers()``.

One vocabulary for where work runs: :class:`Device` (what a request asks for: auto, cpu, cuda;
and what a session actually got: cpu or cuda) and :class:`Placement` (a device plus the library
that runs the work, e.g. "CUDA (ONNX Runtime)"). ONNX Runtime's provider names are turned into a
``Device`` here and nowhere else; everything else compares enums, and strings are only shown.
"""

from __future__ import annotations

import enum
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from restorer_app.offline import TELEMETRY_VARIABLE, telemetry_is_off

from .errors import DeviceUnavailableError, ModelCorruptError, PrivacyError

#: ONNX Runtime's execution provider names (its own spelling; see Device.of_provider).
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class Device(enum.Enum):
    """A compute device: asked for (any member) or actually used (CPU or CUDA)."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"

    @classmethod
    def parse(cls, text: str) -> "Device":
        try:
            return cls(text.lower())
        except ValueError:
            raise DeviceUnavailableError(f"Unknown device '{text}'; use auto, cpu or cuda.") from None

    @classmethod
    def of_provider(cls, provider: str) -> "Device":
        """The device an ONNX Runtime execution provider runs on."""
        return cls.CUDA if provider == CUDA else cls.CPU

    @property
    def label(self) -> str:
        return {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA"}[self.value]


ONNX_RUNTIME = "ONNX Runtime"
OPENCV = "OpenCV"


@dataclass(frozen=True)
class Placement:
    """Where a piece of work runs: the device it actually used and the library running it."""

    device: Device
    library: str

    @property
    def label(self) -> str:
        """As users read it and as outputs record it: 'CUDA (ONNX Runtime)', 'CPU (OpenCV)'."""
        return f"{self.device.label} ({self.library})"

    def __str__(self) -> str:
        return self.label


#: Classical fills: OpenCV on the CPU.
OPENCV_CPU = Placement(Device.CPU, OPENCV)


@dataclass(frozen=True)
class LoadedSession:
    session: object  # onnxruntime.InferenceSession
    #: The provider ONNX Runtime reports using (``session.get_providers()[0]``).
    provider: str
    notice: str | None = None

    @property
    def device(self) -> Device:
        return Device.of_provider(self.provider)

    @property
    def placement(self) -> Placement:
        return Placement(self.device, ONNX_RUNTIME)


#: What a job says when CUDA was wanted (``auto``) but the CPU runs it; the window says it
#: once per run of the app and keeps it in the status bar.
CUDA_FALLBACK_NOTICE = (
    "No usable NVIDIA GPU was found (the CUDA 13 and cuDNN 9 runtimes are needed); "
    "Restorer is running on the CPU."
)


class SessionFactory:
    """Creates and caches ONNX Runtime sessions keyed by model file and device."""

    def __init__(self, cpu_threads: int | None = None) -> None:
        self._cpu_threads = cpu_threads
        self._cache: dict[tuple, LoadedSession] = {}
        self._lock = threading.Lock()

    def load(self, model_path: Path, device: Device) -> LoadedSession:
        stat = model_path.stat()
        key = (str(model_path.resolve()), stat.st_mtime_ns, stat.st_size, device)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                cached = self._create(model_path, device)
                self._cache[key] = cached
            return cached

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _create(self, model_path: Path, device: Device) -> LoadedSession:
        if not telemetry_is_off():
            raise PrivacyError(
                "ONNX Runtime was loaded before Restorer could switch off its telemetry, so no model is run; "
                f"import restorer_app before onnxruntime, or set {TELEMETRY_VARIABLE}=1 before starting."
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Regions come in every size; an arena sized for the largest one would stay allocated.
        options.enable_cpu_mem_arena = False
        threads = self._cpu_threads or int(os.environ.get("RESTORER_CPU_THREADS", "0") or 0)
        if threads:
            options.intra_op_num_threads = threads
        want_cuda = device in (Device.AUTO, Device.CUDA) and CUDA in ort.get_available_providers()
        if device is Device.CUDA and not want_cuda:
            raise DeviceUnavailableError(
                "CUDA was requested, but this ONNX Runtime build has no CUDA support; use --device cpu."
            )
        chain = [CUDA, CPU] if want_cuda else [CPU]
        try:
            session = _quietly(lambda: ort.InferenceSession(str(model_path), sess_options=options, providers=chain))
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... types
            raise ModelCorruptError(f"'{model_path.name}' could not be loaded by ONNX Runtime: {exc}") from None
        provider = session.get_providers()[0]
        notice = None
        if want_cuda and provider != CUDA:
            if device is Device.CUDA:
                raise DeviceUnavailableError(
                    "CUDA was requested but could not be started (an NVIDIA driver with CUDA 13 "
                    "and cuDNN 9 is needed); use --device cpu or auto."
                )
            notice = CUDA_FALLBACK_NOTICE
        return LoadedSession(session, provider, notice)


def _quietly(create):
    """Run ``create`` with ORT's global logger muted: a failed CUDA probe logs a red error
    block to stderr that users cannot act on; we report the fallback ourselves."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    try:
        return create()
    finally:
        ort.set_default_logger_severity(2)
