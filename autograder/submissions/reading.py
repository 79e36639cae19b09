"""Reading one submitted notebook of a class: inside the course's folder, a regular file, and at most a cap.

What sits in ``submitted/`` was put there by students or by a collection script, so it is read like anything
else that is untrusted: a symlink that leads out of the course (to another course's notebook, to a file of
the machine's) is refused, so is anything that is not a regular file (a FIFO would block the run forever,
``/dev/zero`` would be read until memory runs out), and a file larger than ``limits.notebook_size_limit_mb``
is refused before it is read. Nothing refused here is opened, except a regular file, with ``O_NONBLOCK``
and checked again after opening, in case it was replaced in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MB = 10**6
_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder", stat.S_IFLNK: "a symbolic link"}


class RefusedFile(ValueError):
    """The notebook at this path is not read; the sentence says why and what to do."""


def read_submitted(path: Path, course: Path, max_bytes: int) -> bytes:
    """The bytes of the notebook at ``path``, which must lead to a regular file inside ``course`` (symlinks
    included) of at most ``max_bytes``; ``RefusedFile`` otherwise, ``OSError`` when it cannot be read."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    inside = Path(os.path.realpath(course))
    if not target.is_relative_to(inside):
        raise RefusedFile(f"{path} is a symbolic link (or lies in a linked folder) that leads outside the "
                          f"course folder {inside}, to {target}; copy the notebook itself into {path.parent} "
                          f"and run again")
    _refuse_unless_regular(path, os.stat(target), max_bytes)
    fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        _refuse_unless_regular(path, os.fstat(f.fileno()), max_bytes)  # replaced since the check above?
        data = f.read(max_bytes + 1)  # a file that grows meanwhile is still read no further than the cap
    if len(data) > max_bytes:
        raise RefusedFile(_too_large(path, len(data), max_bytes, "more than "))
    return data


def _refuse_unless_regular(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a file")
        raise RefusedFile(f"{path} is {kind}, not a regular file; it was not opened. Put the notebook file "
                          f"itself there and run again")
    if info.st_size > max_bytes:
        raise RefusedFile(_too_large(path, info.st_size, max_bytes))


def _too_large(path: Path, size: int, max_bytes: int, more: str = "") -> str:
    return (f"{path} is {more}{size:,} bytes, above limits.notebook_size_limit_mb ({max_bytes / MB:g} MB); it "
            f"was not read. A notebook of this exercise, outputs and plots included, is far smaller: clear its "
            f"outputs, or raise the limit in course.yml if it is genuine, and run again")
