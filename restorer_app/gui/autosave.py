"""Autosave and crash recovery.

Every few seconds, and only after a change, the session is written as a project (source
reference, mask, detected damage, accepted fills with the undo position) to ``<data>/autosave/``. Each window
owns one ``session-<id>.restorer`` guarded by a ``session-<id>.lock`` (QLockFile: process id,
host and program). A session file whose lock is free was left by a process that ended without
a clean quit (a crash or a kill): an orphan, offered for recovery at the next start. A second
running Restorer holds its own lock, so its live session is never offered.

Writing must not freeze the window on big scans: encoding a 24-megapixel mask as PNG alone
takes about 0.3 s. The GUI thread therefore only copies the mask into a reused buffer (a few
ms) and collects the accepted fills (immutable arrays); turning fills into project steps,
encoding and the atomic write run on one background thread, which also performs deletions,
so they happen in the order they were asked. benchmarks/autosave_large.py measures it.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
from PySide6.QtCore import QLockFile, QObject, Qt, QTimer, Signal

from restorer_app.engine.errors import RestorerError
from restorer_app.engine.files import is_temporary_of
from restorer_app.engine.project import PROJECT_SUFFIX, DamageProposal, FillStep, Project, ProjectError, save_project

from .document import FillPatch, fill_step
from .editor import Editor

DATA_DIR_ENV = "RESTORER_DATA_DIR"
DEFAULT_INTERVAL_MS = 5000
_PREFIX = "session-"
#: Added to the name of an autosave that could not be read; it is kept for the user, never offered again.
UNREADABLE_SUFFIX = ".unreadable"
_THREAD_NAME = "restorer-autosave"


def data_folder() -> Path:
    """Restorer's per-user data folder; ``RESTORER_DATA_DIR`` overrides it (tests, portable use)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("Restorer", appauthor=False))


def autosave_folder() -> Path:
    return data_folder() / "autosave"


def running_writers() -> list[threading.Thread]:
    """Autosave threads still alive (tests check none outlives its window)."""
    return [thread for thread in threading.enumerate() if thread.name.startswith(_THREAD_NAME)]


def _lock_for(path: Path) -> QLockFile:
    lock = QLockFile(str(path.with_suffix(".lock")))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never merely because it is old
    return lock


def _delete_session_files(path: Path) -> None:
    leftovers = [other for other in path.parent.glob(".*") if is_temporary_of(other, path)]  # writes cut short
    for leftover in [path, *leftovers]:
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


@dataclass
class Orphan:
    """An autosave left by a session that did not quit cleanly; its lock is held while asked about."""

    path: Path
    saved: _dt.datetime
    lock: QLockFile

    def release(self) -> None:
        """Keep the file for a later start."""
        self.lock.unlock()

    def delete(self) -> None:
        try:
            _delete_session_files(self.path)
        except OSError:
            pass  # it will be offered again; nothing worse
        self.lock.unlock()

    def set_aside(self) -> Path | None:
        """Keep an unreadable autosave under another name, so it is not offered again; the
        new path, or None when it could not be renamed (it is then offered at the next start)."""
        try:
            kept = _free_name(self.path.with_name(self.path.name + UNREADABLE_SUFFIX))
            self.path.rename(kept)  # a free name: an autosave set aside earlier stays too
        except OSError:
            kept = None
        self.lock.unlock()
        return kept


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with a number before its last suffix, whichever does not exist yet."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def find_orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves whose session ended without a clean quit, newest first. Their locks are
    now held by the caller, who must release, delete or set aside each one."""
    folder = folder or autosave_folder()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{_PREFIX}*{PROJECT_SUFFIX}"):
        lock = _lock_for(path)
        if lock.tryLock(0):
            try:
                saved = _dt.datetime.fromtimestamp(path.stat().st_mtime)
            except OSError:  # vanished in the meantime
                lock.unlock()
                continue
            found.append(Orphan(path, saved, lock))
    return sorted(found, key=lambda orphan: orphan.saved, reverse=True)


class Autosaver(QObject):
    """Writes the editor's session every ``interval_ms`` when it changed since the last write."""

    saved = Signal(object)  # Path of the session file just written
    failed = Signal(object)  # the exception; the next change tries again
    _write_ended = Signal(object)  # Future, delivered to the GUI thread

    def __init__(self, editor: Editor, parent: QObject | None = None, *, folder: Path | None = None,
                 interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._editor = editor
        self.folder = folder or autosave_folder()
        self.path = self.folder / f"{_PREFIX}{uuid.uuid4().hex[:12]}{PROJECT_SUFFIX}"
        #: Something changed since the last snapshot.
        self.dirty = False
        self._urgent = False
        self._closed = False
        self._lock: QLockFile | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: Future | None = None
        self._buffer: np.ndarray | None = None
        self._adopted: Orphan | None = None
        self._steps: dict[int, FillStep] = {}  # by patch id; touched only by the writer thread
        self._write_ended.connect(self._on_write_ended, Qt.ConnectionType.QueuedConnection)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._write_if_due)
        self.timer.start()
        editor.undo_stack.indexChanged.connect(self._on_change)
        editor.document_changed.connect(self.discard)

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    def set_interval(self, milliseconds: int) -> None:
        self.timer.setInterval(milliseconds)

    def _on_change(self) -> None:
        self.dirty = True

    def mark_clean(self) -> None:
        """The session as it is now is safe elsewhere (a project was just opened)."""
        self.dirty = False

    def save_now(self) -> None:
        """Write as soon as possible (now, or right after a write in progress)."""
        self.dirty = True
        self._urgent = True
        self._write_if_due()

    # ------------------------------------------------------------------- writing

    def _write_if_due(self) -> None:
        if not self.dirty or self.busy or self._closed:
            return
        self._urgent = False
        self.dirty = False
        document = self._editor.document
        if document is None or document.path is None:
            return
        # The buffer is reused (a fresh 24 MP array costs ~50 ms in page faults); no write is
        # in flight, so nothing else reads it.
        if self._buffer is None or self._buffer.shape != document.mask.shape:
            self._buffer = np.empty_like(document.mask)
        np.copyto(self._buffer, document.mask)
        proposal = document.detected.proposal
        proposal = proposal.snapshot() if proposal is not None else None  # erasures change it in place
        commands, applied = self._editor.fill_commands()
        try:
            checksum = document.source_checksum()
            if checksum is None:
                raise ProjectError(f"'{document.path.name}' can no longer be read, so the session cannot refer to it.")
            self._ensure_lock()
        except (RestorerError, OSError) as error:
            self.dirty = True  # try again on the next tick
            self.failed.emit(error)
            return
        patches = [command.patch for command in commands]
        self._submit(self._write_session, document.path, checksum, self._buffer, patches, applied,
                     document.saved_prefix(patches), proposal, tracked=True)

    def _write_session(self, source: Path, checksum: str, mask: np.ndarray, patches: list[FillPatch],
                       applied: int, saved_steps: int | None, proposal: DamageProposal | None) -> None:
        """On the writer thread: the project from its parts, written atomically."""
        steps = {patch.id: self._steps.get(patch.id) or fill_step(patch) for patch in patches}
        self._steps = steps  # forget fills no longer in the history
        save_project(Project(source, checksum, mask, list(steps.values()), applied, saved_steps, proposal),
                     self.path)

    def _ensure_lock(self) -> None:
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = _lock_for(self.path)
            self._lock.tryLock(0)  # a fresh random name: nobody else holds it

    def _submit(self, function, *args, tracked: bool = False) -> Future:
        """Run ``function`` on the writer thread; a ``tracked`` job is the write in flight."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME)
        future = self._executor.submit(function, *args)
        if tracked:  # before the callback is attached: a quick job may be done already
            self._in_flight = future
        # Runs on the writer thread, or right here when the job is already done; the queued
        # connection delivers it to this object's thread from the event loop either way.
        future.add_done_callback(self._write_ended.emit)
        return future

    def _on_write_ended(self, future: Future) -> None:
        if future is not self._in_flight:
            return  # a deletion finished
        self._in_flight = None
        error = future.exception()
        if error is not None:
            self.dirty = True
            self.failed.emit(error)
        else:
            if self._adopted is not None:
                self._adopted.delete()
                self._adopted = None
            self.saved.emit(self.path)
        if self._urgent:
            self._write_if_due()

    # ------------------------------------------------------------------ removing

    def discard(self) -> None:
        """Delete this session's autosave (the document was closed, replaced or quit cleanly)."""
        self.dirty = self._urgent = False
        if self._executor is not None:  # queued behind a write in progress, so it cannot come back
            self._submit(_delete_session_files, self.path)
        if self._adopted is not None:  # the recovered work was saved or discarded with its document
            self._adopted.delete()
            self._adopted = None

    def shutdown(self) -> None:
        """Clean quit: delete the autosave, wait for the writer thread, release the lock."""
        self.timer.stop()
        self.discard()
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._in_flight = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def adopt(self, orphan: Orphan) -> None:
        """A recovered session is now this window's: write it under this session's name, and
        delete the orphan only once that write succeeded, so a crash in between loses nothing."""
        self._adopted = orphan
        self.save_now()
