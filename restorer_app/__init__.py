"""Restorer: offline repair of damaged photographs."""

# First, before anything can import onnxruntime: its telemetry stays off (offline.py).
from .offline import switch_off_telemetry as _switch_off_telemetry

_switch_off_telemetry()

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("restorer-app")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
