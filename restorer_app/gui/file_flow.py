"""The document's life on disk: opening photographs and projects, saving and exporting,
masks, crash recovery, recent files and the unsaved-changes question.

It asks through ``dialogs`` (parented to the window), tells through two signals (a status
message, a notice that outlasts opening a photo), and changes nothing on screen itself:
the window follows the Editor's signals.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMimeData, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from restorer_app.engine.errors import RestorerError
from restorer_app.engine.image_formats import is_image_path
from restorer_app.engine.project import PROJECT_SUFFIX, Project, load_project
from restorer_app.engine.project import save_project as write_project

from . import dialogs
from .autosave import Autosaver, Orphan, find_orphans
from .document import Document, SavedFiles, restored_name
from .editor import Editor, check_project_fits
from .fill_controller import FillController
from .project_flow import accepted_work, document_for_project, is_project_path, recovery_summary
from .recent_files import RecentFiles

_JPEG_SUFFIXES = (".jpg", ".jpeg")
SAMPLE_IMAGE = "damaged_portrait.jpg"
SAMPLE_MASK = "damaged_portrait_mask.png"


def sample_paths() -> tuple[Path, Path]:
    """The bundled damaged portrait and its mask (reachable in wheels and frozen builds)."""
    folder = importlib.resources.files("restorer_app.resources") / "samples"
    return Path(str(folder / SAMPLE_IMAGE)), Path(str(folder / SAMPLE_MASK))


class FileFlow(QObject):
    #: A status-bar message and how long it stays (ms).
    message = Signal(str, int)
    #: A notice about the start (an autosave that could not be recovered) to keep on show.
    start_notice = Signal(str)

    def __init__(self, window: QWidget, editor: Editor, fills: FillController, autosaver: Autosaver,
                 settings: QSettings, export_synthesized: Callable[[], bool]) -> None:
        super().__init__(window)
        self._window = window  # the parent of every dialog
        self.editor = editor
        self.fills = fills
        self.autosaver = autosaver
        self.settings = settings
        self.recent = RecentFiles(settings)
        self._export_synthesized = export_synthesized
        #: The document restored from an autosave, while it is open.
        self.recovered: Document | None = None
        editor.document_changed.connect(self._forget_recovered)

    def _forget_recovered(self) -> None:
        self.recovered = None  # set again by the recovery that shows its document

    def _folder(self) -> str:
        document = self.editor.document
        return str(document.path.parent) if document and document.path else ""

    def _attempt(self, operation, *args):
        """Call ``operation``, showing an engine error instead of raising it (None then)."""
        try:
            return operation(*args)
        except RestorerError as error:
            dialogs.show_error(self._window, error)
            return None

    # -------------------------------------------------------------- open & save

    def open_path(self, path: str | Path | None = None, mask_path: str | Path | None = None) -> bool:
        """Open a photograph (asking for it when ``path`` is None), optionally with a mask, or a project."""
        if not self.confirm_unsaved():
            return False
        if path is None:
            path = dialogs.choose_image_to_open(self._window, self._folder())
            if path is None:
                return False
        if is_project_path(path):
            return self._open_project_file(Path(path))
        self.fills.stop()
        document = self._attempt(Document.open, path, mask_path)
        if document is None:
            return False
        self.editor.set_document(document)
        self.recent.add(Path(path))
        self.message.emit(f"Opened {document.display_name}", 4000)
        return True

    def open_sample(self) -> bool:
        image, mask = sample_paths()
        return self.open_path(image, mask)

    def save(self) -> bool:
        """Save to the last Save-As target, or ask for one. Recovered work is saved as a
        project (asking for its path once): its mask and history exist nowhere else."""
        document = self.editor.document
        if document is None:
            return False
        if document is self.recovered:
            return self.save_project(document.project_path)
        if document.save_target is None:
            return self.save_as()
        return self._write(document.save_target, document.save_quality)

    def save_as(self, path: str | Path | None = None, *, jpeg_quality: int | None = None) -> bool:
        """Export under a new name; a JPEG name asks for the quality and warns that JPEG is lossy."""
        document = self.editor.document
        if document is None:
            return False
        if path is None:
            suggested = document.save_target or (restored_name(document.path) if document.path
                                                 else Path("restored.png"))
            path = dialogs.choose_save_path(self._window, suggested)
            if path is None:
                return False
        path = Path(path)
        if not path.suffix and document.path:
            path = dialogs.completed_name(self._window, path, path.with_suffix(document.path.suffix))
            if path is None:
                return False
        if path.suffix.lower() in _JPEG_SUFFIXES and jpeg_quality is None:
            remembered = self.settings.value("export/jpeg_quality", dialogs.DEFAULT_JPEG_QUALITY, type=int)
            jpeg_quality = dialogs.ask_jpeg_quality(self._window, remembered)
            if jpeg_quality is None:
                return False
            self.settings.setValue("export/jpeg_quality", jpeg_quality)
        return self._write(path, jpeg_quality or dialogs.DEFAULT_JPEG_QUALITY)

    def _write(self, path: Path, jpeg_quality: int) -> bool:
        # A RestorerError includes the engine's refusal to overwrite the original.
        saved = self._attempt(lambda: self.editor.save(path, jpeg_quality=jpeg_quality,
                                                       synthesized_mask=self._export_synthesized()))
        if saved is None:
            return False
        self.message.emit(_saved_message(saved), 6000)
        return True

    def load_mask(self, path: str | Path | None = None) -> bool:
        document = self.editor.document
        if document is None or not self.editor.can_edit_mask:
            return False
        if path is None:
            path = dialogs.choose_mask_to_open(self._window, self._folder())
            if path is None:
                return False
        try:
            self.editor.load_mask(path)
        except RestorerError as error:
            dialogs.show_error(self._window, error)
            return False
        return True

    def save_mask(self, path: str | Path | None = None) -> bool:
        document = self.editor.document
        if document is None:
            return False
        if path is None:
            base = document.path or Path("photo.png")
            path = dialogs.choose_mask_save_path(self._window, base.with_name(f"{base.stem}_mask.png"))
            if path is None:
                return False
        written = self._attempt(document.save_mask, path)
        if written is None:
            return False
        self.message.emit(f"Saved mask {written.name}", 5000)
        return True

    def confirm_unsaved(self) -> bool:
        """True when it is fine to drop the current document (saved, or the user agreed)."""
        if not self.editor.is_modified:
            return True
        choice = dialogs.ask_save_changes(self._window, self.editor.document.display_name)
        if choice is dialogs.SaveChoice.SAVE:
            return self.save()
        return choice is dialogs.SaveChoice.DISCARD

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        paths = self.recent.paths()
        for index, path in enumerate(paths, 1):
            action = menu.addAction(f"&{index % 10}  {path.name}")
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not paths:
            menu.addAction("No recent photographs").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Menu", self.recent.clear)

    # ----------------------------------------------------------------- projects

    def save_project(self, path: str | Path | None = None) -> bool:
        """Write the session (source reference, mask, accepted fills with undo position) to a project."""
        document = self.editor.document
        if document is None:
            return False
        if path is None:
            suggested = document.project_path or (document.path or Path("photo")).with_suffix(PROJECT_SUFFIX)
            path = dialogs.choose_project_save_path(self._window, suggested)
            if path is None:
                return False
        try:
            with _busy_cursor():
                written = write_project(self.editor.project(), Path(path))
        except RestorerError as error:
            dialogs.show_error(self._window, error)
            return False
        document.project_path = written
        self.editor.mark_saved()
        self.recent.add(written)
        self.message.emit(f"Saved project {written.name}", 5000)
        return True

    def open_project(self, path: str | Path | None = None) -> bool:
        """Reopen a project: the photograph with its mask and every accepted fill, undoable."""
        if not self.confirm_unsaved():
            return False
        if path is None:
            path = dialogs.choose_project_to_open(self._window, self._folder())
            if path is None:
                return False
        return self._open_project_file(Path(path))

    def _open_project_file(self, path: Path) -> bool:
        try:
            with _busy_cursor():
                project = load_project(path)
        except RestorerError as error:  # ProjectError: damaged, unsafe (zip-slip) or oversized
            dialogs.show_error(self._window, error)
            return False
        if not self._show_project(project, path):
            return False
        self.recent.add(path)
        self.message.emit(f"Opened project {path.name} ({accepted_work(project)})", 5000)
        return True

    def _show_project(self, project: Project, project_file: Path | None) -> bool:
        """Replace the document by the project's; ``project_file`` None means a recovered autosave."""
        try:
            document = document_for_project(self._window, project, project_file)
            if document is None:
                return False
            check_project_fits(project, document)
        except RestorerError as error:
            dialogs.show_error(self._window, error)
            return False
        self.fills.stop()
        document.project_path = project_file
        self.editor.set_document_from_project(document, project, saved=project_file is not None)
        if project_file is not None:
            self.autosaver.mark_clean()  # the project file holds exactly this state
        return True

    # ----------------------------------------------------------------- recovery

    def offer_recovery(self) -> bool:
        """At start: offer to restore work left by sessions that did not quit cleanly, newest
        first. True when one was restored."""
        orphans = find_orphans(self.autosaver.folder)
        adopted = None
        try:
            for orphan in orphans:
                try:
                    project = load_project(orphan.path)
                    summary = recovery_summary(project, orphan.saved)
                except Exception as error:  # noqa: BLE001 - damaged in any way, it must not stop the start
                    self.start_notice.emit(_unreadable_autosave_notice(orphan.path, orphan.set_aside(), error))
                    continue
                choice = dialogs.ask_restore_session(self._window, summary)
                if choice is dialogs.RecoveryChoice.DISCARD:
                    orphan.delete()
                elif choice is dialogs.RecoveryChoice.RESTORE and self._restore(orphan, project):
                    adopted = orphan
                    self.recovered = self.editor.document
                    self.autosaver.adopt(orphan)
                    self.message.emit("Recovered the autosaved work. Save (Ctrl+S) keeps it as a project.", 8000)
                    return True
        finally:
            for orphan in orphans:
                if orphan is not adopted:
                    orphan.release()  # no-op for those already deleted or set aside
        return False

    def _restore(self, orphan: Orphan, project: Project) -> bool:
        """Show a recovered session; one whose repairs cannot be replayed is set aside like an
        unreadable one (True when shown)."""
        try:
            return self._show_project(project, None)
        except Exception as error:  # noqa: BLE001 - read but inconsistent: the same as damaged
            self.editor.set_document(None)
            self.start_notice.emit(_unreadable_autosave_notice(orphan.path, orphan.set_aside(), error))
            return False


def openable_drop(mime: QMimeData) -> Path | None:
    """The first dropped photograph or project."""
    urls = mime.urls() if mime.hasUrls() else []
    for url in urls:
        local = url.toLocalFile() if url.isLocalFile() else ""
        if local and (is_image_path(local) or is_project_path(local)):
            return Path(local)
    return None


@contextlib.contextmanager
def _busy_cursor():
    """A wait cursor for the few file operations that run on the GUI thread."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


def _unreadable_autosave_notice(path: Path, kept: Path | None, error: BaseException) -> str:
    why = str(error) if isinstance(error, RestorerError) else f"it is damaged ({type(error).__name__}: {error})."
    where = (f"It was kept as {kept} and will not be offered again." if kept is not None else
             f"It stays at {path}, since it could not be renamed, and will be offered again.")
    return f"An autosaved session could not be recovered: {why} {where}"


def _saved_message(saved: SavedFiles) -> str:
    extra = f" and the synthesized-pixels mask {saved.synthesized_mask.name}" if saved.synthesized_mask else ""
    return f"Saved {saved.image.name} with its provenance record {saved.sidecar.name}{extra}"
