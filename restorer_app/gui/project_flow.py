"""The steps between a project file (or a recovered autosave) and a document on screen:
finding the source photograph it refers to, and describing a recovery to the user."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtWidgets import QWidget

from restorer_app.engine.imageio import load_image
from restorer_app.engine.project import PROJECT_SUFFIX, Project, ProjectError
from restorer_app.engine.files import sha256_file

from . import dialogs
from .document import Document


def is_project_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() == PROJECT_SUFFIX


def _checksum(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def find_source(parent: QWidget | None, project: Project, project_file: Path | None) -> Path | None:
    """The photograph the project was made from, checked by sha256: where it was, beside the
    project file, or where the user locates it. None when it cannot be had (already explained)."""
    expected = project.source_path
    candidates = [expected] + ([project_file.parent / expected.name] if project_file is not None else [])
    for candidate in candidates:
        if candidate.is_file() and _checksum(candidate) == project.source_sha256:
            return candidate
    if expected.is_file():
        sentence = (f"'{expected.name}' has changed since the project was saved (its checksum differs), "
                    "so the saved repairs cannot be replayed on it.")
    else:
        sentence = f"The photograph '{expected.name}' this project repairs is no longer in {expected.parent}."
    folder = expected.parent if expected.parent.is_dir() else (project_file.parent if project_file else Path.home())
    chosen = dialogs.locate_source(parent, sentence, expected.name, str(folder))
    if chosen is None:
        return None
    if _checksum(Path(chosen)) != project.source_sha256:
        dialogs.show_error(parent, ProjectError(
            f"'{Path(chosen).name}' is not the photograph this project was made from (its checksum differs)."))
        return None
    return Path(chosen)


def document_for_project(parent: QWidget | None, project: Project, project_file: Path | None) -> Document | None:
    """The source photograph as a new document (fills not yet replayed); None if the user
    could not locate it. Raises RestorerError when it cannot be read."""
    source = find_source(parent, project, project_file)
    if source is None:
        return None
    document = Document(load_image(source))
    document.source_sha256 = project.source_sha256
    return document


def accepted_work(project: Project) -> str:
    """'2 accepted fills', '1 accepted restore and 3 accepted fills': the steps applied."""
    applied = project.steps[:project.position]
    restores = sum(step.is_restore for step in applied)
    fills = len(applied) - restores
    parts = ([f"{restores} accepted restore{'s' if restores != 1 else ''}"] if restores else []) + \
        ([f"{fills} accepted fill{'s' if fills != 1 else ''}"] if fills or not restores else [])
    return " and ".join(parts)


def recovery_summary(project: Project, saved: _dt.datetime, today: _dt.date | None = None) -> str:
    """One sentence for the recovery question: what, from when, and how much work."""
    today = today or _dt.date.today()
    when = f"at {saved:%H:%M}" + (" today" if saved.date() == today else f" on {saved.day} {saved:%B %Y}")
    work = [accepted_work(project)] if project.position else []
    if project.mask.any():
        work.append("the painted mask")
    if project.proposal is not None:
        work.append("the detected damage")
    what = " and ".join(work) if work else "the photograph as it was"
    return f"Work on '{project.source_path.name}' autosaved {when} can be restored: {what}."
