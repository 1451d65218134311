"""Writing files so that a crash never leaves half of one, and naming files by their content.

Every write goes to a temporary file beside its target that is flushed and then renamed over
it (atomic on one file system). The temporary names carry the writer's pid and machine, so a
later write on the same machine removes what a killed process left behind, and only that.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import ImageWriteError

#: Restorer's temporary files: ``.<target name>.restorer-<pid>@<host>-<random>.part`` beside
#: the target (``<host>``: 6 hex digits of the machine's name; older ones lack ``@<host>``).
TEMP_MARK, TEMP_SUFFIX = ".restorer-", ".part"
#: This machine, as temporary file names say it: only a temporary written here can be judged
#: stale here (a pid means nothing on another machine writing to the same share).
HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
#: Room for the mark, pid, machine tag and random part within the usual 255-byte name limit.
_TEMP_NAME_KEEP = 200

Writer = Callable[[BinaryIO], object]


@dataclass(frozen=True)
class StagedFile:
    """A file written and flushed under a temporary name beside ``target``."""

    target: Path
    temp: Path

    def commit(self) -> None:
        """Rename the temporary file over the target (atomic on one file system)."""
        try:
            os.replace(self.temp, self.target)
        except OSError as exc:
            raise ImageWriteError(f"Could not write '{self.target}': {exc.strerror or exc}.") from None

    def discard(self) -> None:
        try:
            self.temp.unlink()
        except FileNotFoundError:
            pass  # committed already, or removed by the stale-file cleanup of another write


def temp_prefix(target: Path) -> str:
    """The start of every temporary file name Restorer uses for ``target``."""
    return f".{target.name[:_TEMP_NAME_KEEP]}{TEMP_MARK}"


def is_temporary_of(path: Path, target: Path) -> bool:
    """True when ``path`` is named like one of Restorer's temporary files for ``target``."""
    return path.name.startswith(temp_prefix(target)) and path.name.endswith(TEMP_SUFFIX)


def stale_temporaries(target: Path) -> list[Path]:
    """Restorer's temporary files for ``target`` whose writing process is gone."""
    folder = _folder_of(target)
    try:
        paths = [folder / entry.name for entry in os.scandir(folder)]
    except OSError:
        return []
    found = []
    for path in paths:
        if not is_temporary_of(path, target):
            continue
        writer = path.name[len(temp_prefix(target)):-len(TEMP_SUFFIX)].split("-", 1)[0]
        pid_text, tagged, host = writer.partition("@")
        if tagged and host != HOST_TAG:
            continue  # another machine's (a cluster worker's on a shared folder): not ours to judge
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text)):
            found.append(path)
    return found


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate the process there; keep the file instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, owned by someone else; otherwise keep the file
        return True
    return True


def remove_stale_temporaries(target: Path) -> None:
    for path in stale_temporaries(target):
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # another write cleaned it at the same moment
        except OSError as exc:
            raise ImageWriteError(f"Could not remove the leftover temporary file '{path}': "
                                  f"{exc.strerror or exc}.") from None


def stage_write(target: Path, write: Writer) -> StagedFile:
    """Call ``write(handle)`` on a new temporary file beside ``target`` and flush it to disk.

    The file gets the permissions a new file gets under the umask (0644 under 022), or those
    of the file it will replace. Leftovers of killed Restorer processes for the same target
    are removed first; any failure removes the temporary file and raises ImageWriteError.
    """
    folder = _folder_of(target)
    if not folder.is_dir():
        raise ImageWriteError(f"The folder '{folder}' does not exist.")
    remove_stale_temporaries(target)
    try:
        keep_mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        keep_mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _attempt in range(100):
        temp = folder / f"{temp_prefix(target)}{os.getpid()}@{HOST_TAG}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            fd = os.open(temp, flags, 0o666)  # the umask applies, unlike mkstemp's fixed 0600
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageWriteError(f"Cannot write into '{folder}': {exc.strerror or exc}.") from None
    else:
        raise ImageWriteError(f"Cannot create a temporary file in '{folder}'.")
    try:
        if keep_mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, keep_mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        StagedFile(target, temp).discard()
        if isinstance(exc, OSError):
            raise ImageWriteError(f"Could not write '{target}': {exc.strerror or exc}.") from None
        raise
    return StagedFile(target, temp)


def commit_and_sync(staged: StagedFile) -> Path:
    """Rename ``staged`` into place (removing the temporary file if that fails) and flush
    the folder; returns the target."""
    try:
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    sync_folder(staged.target.parent)
    return staged.target


def atomic_write(target: Path, write: Writer) -> None:
    """Call ``write(handle)`` on a temporary file beside ``target``, then rename it over."""
    commit_and_sync(stage_write(target, write))


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames, removals) to disk where the system allows it."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return  # the renames stand; only their durability across a power cut is left to the OS
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network shares) cannot sync a folder
    finally:
        os.close(fd)


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name the same file (or would, once written)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The file's sha256 as hex, read in ``chunk``-byte blocks (model files are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_of(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")
