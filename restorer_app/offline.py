"""Nothing leaves the machine: the one place that switches off ONNX Runtime's telemetry.

onnxruntime carries Microsoft's 1DS telemetry client. A session that lives more than a few
seconds looks up an event-collection host, and every run appends events (device id, OS, CPU,
memory, paths, error texts) to ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``. The client
reads ``ORT_DISABLE_TELEMETRY`` once, when onnxruntime is first imported; setting it later, or
calling ``onnxruntime.disable_telemetry_events()``, leaves the client running (measured with
onnxruntime-gpu 1.31). So the variable is set when ``restorer_app`` is imported, which every
way into the code does before it can reach onnxruntime (the CLI, the GUI, ``models``,
benchmarks, frozen builds), and child processes inherit it. The session factory refuses to
start a session when onnxruntime got in first (:func:`telemetry_is_off`).
"""

from __future__ import annotations

import os
import sys

TELEMETRY_VARIABLE = "ORT_DISABLE_TELEMETRY"
#: Where onnxruntime keeps its telemetry store when the client runs (relative to the home folder).
TELEMETRY_STORE = os.path.join(".cache", "Microsoft", "DeveloperTools", ".onnxruntime")

_off_before_import: bool | None = None


def switch_off_telemetry() -> None:
    """Set the variable (overriding any other value) and note whether it came in time."""
    global _off_before_import
    if _off_before_import is None:
        _off_before_import = os.environ.get(TELEMETRY_VARIABLE) == "1" or "onnxruntime" not in sys.modules
    os.environ[TELEMETRY_VARIABLE] = "1"


def telemetry_is_off() -> bool:
    """True when onnxruntime was, or will be, loaded with its telemetry switched off."""
    if "onnxruntime" not in sys.modules:
        os.environ[TELEMETRY_VARIABLE] = "1"  # read when it is imported
        return True
    return bool(_off_before_import)
