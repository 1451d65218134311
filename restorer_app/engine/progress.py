"""The progress/cancel token passed into every long job.

The engine calls ``report`` to say how far it got and ``check_cancelled`` at every
cancellation point (each region, tile or batch item). The CLI, the tests and the GUI
each bring their own subclass; nothing here knows about Qt.
"""

from __future__ import annotations

import threading

from .errors import OperationCancelled


class Progress:
    """Base token: thread-safe cancel flag, no-op reporting."""

    def __init__(self) -> None:
        self._cancel = threading.Event()

    def report(self, fraction: float, message: str = "") -> None:
        """Record that ``fraction`` (0..1) of the job is done. Subclasses display it."""

    def cancel(self) -> None:
        """Ask the job to stop at its next cancellation point (safe from any thread)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise :class:`OperationCancelled` if someone asked the job to stop."""
        if self._cancel.is_set():
            raise OperationCancelled()

    def sub(self, start: float, end: float) -> "SubProgress":
        """A token for a nested step that maps its 0..1 onto ``start..end`` of this one."""
        return SubProgress(self, start, end)


class SubProgress(Progress):
    """Forwards to a parent token, rescaled; shares the parent's cancel flag."""

    def __init__(self, parent: Progress, start: float, end: float) -> None:
        super().__init__()
        self._parent = parent
        self._start = start
        self._span = end - start
        self._cancel = parent._cancel

    def report(self, fraction: float, message: str = "") -> None:
        clamped = min(max(fraction, 0.0), 1.0)
        self._parent.report(self._start + self._span * clamped, message)


class PrefixedProgress(SubProgress):
    """A sub-step whose messages say which part of the whole they belong to: "scan.tif (3 of 9): …"."""

    def __init__(self, parent: Progress, start: float, end: float, prefix: str) -> None:
        super().__init__(parent, start, end)
        self._prefix = prefix

    def report(self, fraction: float, message: str = "") -> None:
        super().report(fraction, f"{self._prefix}: {message}" if message else self._prefix)


class RecordingProgress(Progress):
    """Keeps every report; for tests and scripts that want to inspect progress."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.reports: list[tuple[float, str]] = []
        self._cancel_after = cancel_after

    def report(self, fraction: float, message: str = "") -> None:
        self.reports.append((fraction, message))
        if self._cancel_after is not None and len(self.reports) >= self._cancel_after:
            self.cancel()


def duration_text(seconds: float) -> str:
    """'8 s', '2 min 10 s', '1 h 5 min' (a time left, said the same in the window and on the terminal)."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest // 10 * 10} s" if rest >= 10 else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"
