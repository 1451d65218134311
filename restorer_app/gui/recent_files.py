"""The Open Recent list, kept in QSettings: newest first, at most ten, only files that exist."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10
_KEY = "files/recent"


class RecentFiles:
    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[Path]:
        """Recent files that still exist; missing ones are dropped from the settings too."""
        stored = self._stored()
        present = [p for p in stored if p.is_file()]
        if present != stored:
            self._store(present)
        return present

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        paths = [path] + [p for p in self._stored() if p != path]
        self._store(paths[:MAX_RECENT])

    def clear(self) -> None:
        self._store([])

    def _stored(self) -> list[Path]:
        value = self._settings.value(_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            value = [value]
        return [Path(v) for v in (value or []) if v]

    def _store(self, paths: list[Path]) -> None:
        self._settings.setValue(_KEY, [str(p) for p in paths])
        self._settings.sync()
