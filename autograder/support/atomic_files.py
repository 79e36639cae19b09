"""Writing an output file whole or not at all: the instructor's exports, reports and result files.

Each file is written to a temporary file beside it (same folder, so the same file system), flushed to the
disk (fsync), then renamed over the old one (``os.replace``, atomic on POSIX), and the folder is fsynced so
that the rename itself survives a crash. A full disk, a killed process or a power cut therefore leaves either
the previous file, byte for byte, or the new one: never a CSV cut in its middle row that Canvas would import.
The temporary file is removed when the write fails.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


class OutputNotWritten(OSError):
    """An output file could not be written; the sentence says which, why, and that the old file is kept."""

    def __init__(self, path: Path, cause: OSError, previous_kept: bool):
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path, self.previous_kept = Path(path), previous_kept
        code = errno.errorcode.get(cause.errno, "") if cause.errno else ""
        self.reason = f"{cause.strerror or cause}" + (f" ({code})" if code else "")

    def __str__(self) -> str:
        kept = ("the previous file is kept as it was" if self.previous_kept
                else "no file was written (there was none before)")
        return f"could not write {self.path}: {self.reason}; {kept}; free space (or fix the folder) and run it again"


def write_atomically(path: Path | str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Replace ``path`` by ``content`` in one step; raises ``OutputNotWritten`` (an ``OSError``) on failure.

    A symlink at ``path`` is written through (its target replaced), as a plain ``open(path, "w")`` would.
    """
    path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    data = content.encode(encoding) if isinstance(content, str) else content
    previous_kept = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise OutputNotWritten(path, exc, previous_kept) from None
    try:
        try:
            os.fchmod(fd, _mode_for(path))
            view = memoryview(data)
            while view:  # os.write may write less than asked (a signal, a nearly full disk)
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise OutputNotWritten(path, exc, previous_kept) from None
    _sync_folder(path.parent)
    return path


def _mode_for(path: Path) -> int:
    """The old file's permissions, else what ``open()`` would give a new file (0o666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process' umask, read without setting it (``os.umask`` sets it, a race with other threads' files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 0o022


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; a file system that cannot fsync a folder has already made it so, or never will."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
