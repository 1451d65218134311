"""Restorer: offline repair of damaged photographs."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("restorer-app")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
